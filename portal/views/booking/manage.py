"""The private link of a booking: see it, download it, move it or cancel it.

The link carries a random token once; it is stored only as a hash. Opening it remembers
the booking (its calendar UID and the token) in the signed session and redirects to a
token-free address. Moving and cancelling each need a confirming POST.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ... import db
from ...forms import booking as forms
from ...forms.request import EraseForm
from ...mail import bookings as booking_mail
from ...models import Booking, utcnow
from ...security import limiter
from ...services import bookings, slots
from ...services.errors import BookingClosed, SlotUnavailable
from .. import current_settings, erase_at_residents_wish, may_confirm_to
from ..receipt import receipt_page
from .common import bp, checked_slot, policy, slot_page, slot_problem
from .results import calendar_response

SESSION_MANAGE = "booking_manage"
SESSION_MOVE = "booking_move"


@bp.get("/manage/<token>")
def manage_link(token: str) -> Response:
    """The private link: remember the booking, then show it without the token in the URL."""
    found = bookings.booking_by_token(db.session(), token)
    if found is None:
        abort(404)
    if bookings.booking_link_expired(found, utcnow(), current_settings().private_link_days):
        return Response(
            render_template("request/link_expired.html", help_request=found.request), status=410
        )
    session[SESSION_MANAGE] = {"uid": found.uid, "token": token}
    session.pop(SESSION_MOVE, None)
    return redirect(url_for("booking.manage"))


def _managed() -> tuple[Booking, str]:
    """The booking this browser opened by its link; the link is checked again at every use."""
    remembered = session.get(SESSION_MANAGE) or {}
    token = remembered.get("token", "")
    linked = bookings.booking_by_token(db.session(), token)
    if (
        linked is None
        or linked.uid != remembered.get("uid")
        or bookings.booking_link_expired(linked, utcnow(), current_settings().private_link_days)
    ):
        abort(404)
    found = bookings.current_booking(db.session(), linked.uid)
    if found is None or found.request.anonymised_at is not None:
        abort(404)
    return found, token


def _changeable(found: Booking) -> bool:
    return found.status == "active" and found.slot_start > utcnow()


@bp.get("/manage/receipt")
def manage_receipt() -> str:
    """The receipt of the booking opened by its private link, to print or keep."""
    found, _token = _managed()
    return receipt_page(found.request, url_for("booking.manage"), found)


@bp.get("/manage")
def manage() -> str:
    """The booking: when, where, for whom, and what can still be done."""
    found, _token = _managed()
    return render_template(
        "booking/manage.html",
        booking=found,
        place=booking_mail.place(found),
        changeable=_changeable(found),
        past=found.slot_start <= utcnow(),
        may_erase=bookings.made_its_request(db.session(), found),
    )


@bp.get("/manage/termin.ics")
def manage_calendar() -> Response:
    """Download the booking as a calendar file."""
    found, token = _managed()
    return calendar_response(found, token)


def _closed() -> Response:
    flash(_("Dieser Termin kann nicht mehr geändert werden."))
    return redirect(url_for("booking.manage"))


@bp.route("/manage/cancel", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_submit, methods=["POST"])
def cancel() -> Response | str:
    """Ask once more, then cancel: the slot is free again and the staff inbox is told."""
    found, _token = _managed()
    if not _changeable(found):
        return _closed()
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        try:
            bookings.cancel_booking(db.session(), found, utcnow())
        except BookingClosed:
            return _closed()
        booking_mail.queue_booking_cancelled(
            db.session(), found, confirm=may_confirm_to(found.email)
        )
        db.commit()
        flash(_("Ihr Termin ist abgesagt. Die Zeit ist wieder frei für andere."))
        return redirect(url_for("booking.manage"))
    return render_template(
        "booking/cancel.html", form=form, booking=found, place=booking_mail.place(found)
    )


@bp.route("/manage/move", methods=["GET", "POST"])
def move() -> Response | str:
    """Choose the new time from the free slots of the same place."""
    found, _token = _managed()
    if not _changeable(found):
        return _closed()
    form = forms.SlotForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            chosen = _check_new(found, form.slot.data or "")
        except SlotUnavailable as problem:
            form.slot.errors = [slot_problem(problem.reason)]
        else:
            session[SESSION_MOVE] = chosen.key
            return redirect(url_for("booking.move_confirm"))
    taken = session.pop("booking_move_taken", None)
    return render_template(
        "booking/move.html",
        form=form,
        booking=found,
        place=booking_mail.place(found),
        taken=taken,
        action=url_for("booking.move", page=request.args.get("page")),
        page_url=lambda number: url_for("booking.move", page=number),
        **slot_page(found.location, exclude=found.slot_start),
    )


def _check_new(found: Booking, key: str) -> slots.Slot:
    chosen = checked_slot(found.location, key)
    if chosen.start == found.slot_start:
        raise SlotUnavailable("same")
    return chosen


@bp.route("/manage/move/confirm", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_submit, methods=["POST"])
def move_confirm() -> Response | str:
    """Show old and new time side by side; on confirmation, move in one transaction."""
    found, token = _managed()
    if not _changeable(found):
        return _closed()
    key = session.get(SESSION_MOVE, "")
    try:
        chosen = _check_new(found, key)
    except SlotUnavailable as problem:
        return _move_lost(problem.reason)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        try:
            moved = bookings.move_booking(db.session(), found, chosen.start, utcnow(), policy())
        except SlotUnavailable as problem:
            return _move_lost(problem.reason)
        except BookingClosed:
            return _closed()
        booking_mail.queue_booking_moved(
            db.session(), moved, token or None, confirm=may_confirm_to(moved.email)
        )
        db.commit()
        session.pop(SESSION_MOVE, None)
        flash(_("Ihr Termin ist verschoben. Wir haben die alte Zeit wieder freigegeben."))
        return redirect(url_for("booking.manage"))
    return render_template(
        "booking/move_confirm.html",
        form=form,
        booking=found,
        place=booking_mail.place(found),
        new_start=chosen.start,
        new_end=chosen.end,
    )


def _move_lost(reason: str) -> Response:
    """The new time went away: the booking keeps its old slot; choose again."""
    session.pop(SESSION_MOVE, None)
    session["booking_move_taken"] = slot_problem(reason) if reason != "malformed" else None
    return redirect(url_for("booking.move"))


@bp.route("/manage/erase", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_submit, methods=["POST"])
def erase() -> Response | str:
    """Ask once more, then cancel and delete everything the booking told us (its request)."""
    found, _token = _managed()
    if not bookings.made_its_request(db.session(), found):
        abort(404)
    form = EraseForm(prefix="erase")
    if not form.validate_on_submit():
        return render_template(
            "booking/erase.html", form=form, booking=found, place=booking_mail.place(found)
        )
    erase_at_residents_wish(found.request)
    session.pop(SESSION_MANAGE, None)
    session.pop(SESSION_MOVE, None)
    return redirect(url_for("request.erased"))
