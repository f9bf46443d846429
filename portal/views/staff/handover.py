"""Handing on and meeting: referrals to other offices, and appointments for a request."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, g
from flask_babel import force_locale, format_date, format_time
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ... import db, labels, mail
from ...forms import staff as forms
from ...forms.base import BaseForm
from ...i18n import catalog_of
from ...mail import bookings as booking_mail
from ...models import ConsultationLocation, HelpRequest, utcnow
from ...services import bookings, catalogue, messages, referrals, slots
from ...services.errors import BookingClosed, SlotUnavailable
from ...services.slots import Slot
from .. import current_settings
from . import bp, readable_request, record, requires
from .work import act, back_to_request, booking_policy


@bp.post("/requests/<reference>/referral")
@requires("requests")
def referral(reference: str) -> Response | tuple[str, int]:
    """Record a warm hand-over to another office."""

    def run(found: HelpRequest, form: BaseForm) -> str:
        org_id = form.organization.data or ""
        organization = catalogue.organization_by_id(db.session(), org_id) if org_id else None
        office = form.office_name.data or dict(referrals.organizations(db.session())).get(
            org_id, ""
        )
        referrals.refer(
            db.session(),
            found,
            g.staff,
            office,
            form.passed_on.data or "",
            form.consent.data,
            form.follow_up_on.data,
            utcnow(),
            organization,
        )
        return "referral"

    return act(reference, "referral", run, _("Die Weitervermittlung ist festgehalten."))


@bp.post("/requests/<reference>/referrals/<int:referral_id>/accept")
@requires("requests")
def accept_referral(reference: str, referral_id: int) -> Response | tuple[str, int]:
    """The other office took the person on."""
    found = readable_request(reference)
    form = forms.EmptyForm(prefix="accept")
    item = referrals.referral_of(db.session(), found.id, referral_id)
    if item is None or not form.validate_on_submit():
        flash(_("Dieser Schritt ist so nicht möglich. Bitte prüfen Sie Ihre Angaben."))
        return back_to_request(found)
    referrals.accept(db.session(), item, g.staff, utcnow())
    record("referral_accepted", found)
    db.commit()
    flash(_("Die Weitervermittlung ist als angenommen markiert."))
    return back_to_request(found)


@bp.post("/requests/<reference>/book")
@requires("requests")
def book(reference: str) -> Response | tuple[str, int]:
    """Book a free slot for the request; the resident gets the usual confirmation and .ics."""

    def run(found: HelpRequest, form: BaseForm) -> str:
        code, _sep, key = (form.slot.data or "").partition("/")
        location = slots.location_by_code(db.session(), code)
        if location is None:
            raise SlotUnavailable("malformed")
        booked = bookings.confirm_slot_for_request(
            db.session(),
            found,
            location,
            slots.parse_slot_key(key),
            utcnow(),
            booking_policy(),
            privacy_version=current_settings().privacy_notice_version,
        )
        booking_mail.queue_booking_made(db.session(), booked.booking, booked.token)
        return code

    return act(
        reference, "book", run, _("Der Termin ist gebucht. Die Person bekommt eine Bestätigung.")
    )


@bp.post("/requests/<reference>/bookings/<int:booking_id>/cancel")
@requires("requests")
def cancel_booking(reference: str, booking_id: int) -> Response:
    """Cancel one appointment of the request; the booker is told."""
    found = readable_request(reference)
    booking = bookings.booking_of(db.session(), found, booking_id)
    if booking is None or not forms.EmptyForm(prefix="cancel").validate_on_submit():
        flash(_("Dieser Schritt ist so nicht möglich. Bitte prüfen Sie Ihre Angaben."))
        return back_to_request(found)
    try:
        bookings.cancel_booking(db.session(), booking, utcnow())
    except BookingClosed:
        db.rollback()
        flash(_("Dieser Termin kann nicht mehr abgesagt werden."))
        return back_to_request(found)
    booking_mail.queue_booking_cancelled(db.session(), booking)
    record("booking_cancel", found)
    db.commit()
    flash(_("Der Termin ist abgesagt. Die Person bekommt Bescheid."))
    return back_to_request(found)


@bp.post("/requests/<reference>/bookings/<int:booking_id>/move")
@requires("requests")
def move_booking(reference: str, booking_id: int) -> Response:
    """Move one appointment to another free slot; the booker gets the new time and link."""
    found = readable_request(reference)
    booking = bookings.booking_of(db.session(), found, booking_id)
    form = forms.BookForm(prefix=f"move{booking_id}")
    if booking is None or not form.validate_on_submit():
        flash(_("Bitte wählen Sie einen neuen Termin."))
        return back_to_request(found)
    try:
        moved = bookings.move_booking(
            db.session(),
            booking,
            slots.parse_slot_key(form.slot.data or ""),
            utcnow(),
            booking_policy(),
        )
    except (SlotUnavailable, BookingClosed):
        db.rollback()
        flash(_("Dieser Termin ist nicht mehr frei. Bitte wählen Sie einen anderen."))
        return back_to_request(found)
    booking_mail.queue_booking_moved(db.session(), moved, bookings.renew_token(moved))
    record("booking_move", found)
    db.commit()
    flash(_("Der Termin ist verschoben. Die Person bekommt Bescheid."))
    return back_to_request(found)


def _proposal_text(found: HelpRequest, chosen: list[tuple[ConsultationLocation, Slot]]) -> str:
    """The proposal as the resident reads it, in the language of their request."""
    with force_locale(catalog_of(found.locale)):
        lines = [_("Wir schlagen Ihnen diese Termine vor:")]
        lines += [
            f"– {format_date(slot.start, 'full')}, {format_time(slot.start, 'short')}: "
            f"{labels.location_name(location)}"
            for location, slot in chosen
        ]
        lines.append(
            _(
                "Bitte buchen Sie einen dieser Termine auf dieser Seite unter „Termin buchen“. "
                "Oder rufen Sie uns an. Die Termine sind nicht für Sie reserviert."
            )
        )
    return "\n".join(lines)


def _chosen_slots(keys: list[str]) -> list[tuple[ConsultationLocation, Slot]]:
    """Each ``code/key`` value as a location and a slot that is still free."""
    chosen = []
    for value in keys:
        code, _sep, key = value.partition("/")
        location = slots.location_by_code(db.session(), code)
        if location is None:
            raise SlotUnavailable("malformed")
        start = slots.parse_slot_key(key)
        chosen.append(
            (location, slots.check_slot(db.session(), location, start, utcnow(), booking_policy()))
        )
    return chosen


@bp.post("/requests/<reference>/propose")
@requires("requests")
def propose(reference: str) -> Response | tuple[str, int]:
    """Propose free slots: the resident gets a message with the times and books one."""

    def run(found: HelpRequest, form: BaseForm) -> str:
        chosen = _chosen_slots(list(form.slots.data or []))
        now = utcnow()
        days = current_settings().resident_link_days
        text = _proposal_text(found, chosen)
        token = messages.send_to_resident(db.session(), found, g.staff, text, now, days, True)
        mail.queue_resident_message(db.session(), found, text, token, now + timedelta(days=days))
        return str(len(chosen))

    return act(reference, "propose", run, _("Der Vorschlag ist gesendet."))
