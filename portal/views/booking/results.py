"""After the check page: the confirmation, the calendar download, and the conflict page."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import abort, make_response, redirect, render_template, session, url_for
from werkzeug.wrappers import Response

from ... import db
from ...forms import booking as forms
from ...links import external_url
from ...mail import bookings as booking_mail
from ...models import utcnow
from ...services import bookings, slots
from ...services.errors import DraftExpired, SlotUnavailable
from ..receipt import receipt_page
from .common import SESSION_BOOKED, bp, chosen_location, policy, slot_problem
from .steps import FLOW


@bp.get("/taken")
def taken() -> Response | str:
    """ "This time was just taken": the next free slots, to pick one in a single step."""
    try:
        draft = FLOW.draft()
    except DraftExpired:
        return FLOW.expired()
    location = chosen_location(draft.answers)
    if location is None:
        return redirect(FLOW.url("location"))
    wanted = None
    with contextlib.suppress(SlotUnavailable):
        wanted = slots.parse_slot_key(draft.answers.get("taken_slot", ""))
    nearest = slots.next_free_slots(db.session(), location, utcnow(), policy(), 5, after=wanted)
    return render_template(
        "booking/taken.html",
        form=forms.SlotForm(),
        wanted=wanted,
        reason=draft.answers.get("slot_problem", "taken"),
        problem=slot_problem(draft.answers.get("slot_problem", "taken")),
        groups=slots.group_by_day(nearest),
        location=location,
    )


def _just_booked() -> dict[str, str] | None:
    """The booking this browser just made, if its private link still matches it."""
    booked = session.get(SESSION_BOOKED) or {}
    linked = bookings.booking_by_token(db.session(), booked.get("token", ""))
    return booked if linked is not None and linked.uid == booked.get("uid") else None


@bp.get("/done")
def done() -> Response | str:
    """The confirmation: reference, date, time and place, the calendar file, the private link."""
    booked = _just_booked()
    found = bookings.current_booking(db.session(), booked.get("uid", "")) if booked else None
    if found is None or booked is None:
        return redirect(url_for("booking.start"))
    return render_template(
        "booking/done.html",
        booking=found,
        place=booking_mail.place(found),
        manage_url=external_url("booking.manage_link", token=booked["token"])
        if booked.get("token")
        else "",
        calendar_url=url_for("booking.done_calendar"),
    )


@bp.get("/done/receipt")
def done_receipt() -> Response | str:
    """The receipt of the appointment just booked, to print or keep."""
    booked = _just_booked()
    found = bookings.current_booking(db.session(), booked.get("uid", "")) if booked else None
    if found is None:
        return redirect(url_for("booking.start"))
    return receipt_page(found.request, url_for("booking.done"), found)


def calendar_response(found: Any, token: str | None) -> Response:
    """The booking as a downloadable ``.ics`` in the reader's language."""
    link = external_url("booking.manage_link", token=token) if token else ""
    body = booking_mail.calendar_file(found, link, cancelled=found.status == "cancelled")
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{booking_mail.ICS_NAME}"'
    return response


@bp.get("/done/termin.ics")
def done_calendar() -> Response:
    """Download the appointment just booked (the session says which; no data in the URL)."""
    booked = _just_booked()
    found = bookings.current_booking(db.session(), booked.get("uid", "")) if booked else None
    if found is None or booked is None:
        abort(404)
    return calendar_response(found, booked.get("token"))
