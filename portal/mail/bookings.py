"""Emails and calendar files about consultation bookings.

Staff inboxes get the facts in German (reference, town, place, date, time, a link) and no
word the booker wrote. The booker gets the confirmation in their own language with the
appointment as an ``.ics`` attachment, stored on the outbox row as rendered.
"""

from __future__ import annotations

import dataclasses
from email.utils import parseaddr

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from .. import labels
from ..config import Settings, settings_of
from ..i18n import catalog_of
from ..links import external_url
from ..models import Booking, utcnow
from ..services import choices, ics, outbox
from . import STAFF_LOCALE, _compose

ICS_NAME = "termin-soziales-duo.ics"


def _settings() -> Settings:
    settings = settings_of(current_app)
    return settings


def _sender_address() -> str:
    return parseaddr(_settings().mail_sender)[1] or "portal@example.org"


def manage_url(booking: Booking, token: str) -> str:
    """The private link to see, move or cancel a booking (carries the token once)."""
    return external_url("booking.manage_link", lang=booking.locale, token=token)


def place(booking: Booking) -> str:
    """Where the appointment is, in the current language, on one line."""
    location = booking.location
    name = labels.location_name(location)
    if location.kind == "home_visit" and booking.street:
        return f"{name}: {booking.street}, {booking.postcode} {booking.city}"
    if location.address:
        return f"{name}, {location.address}"
    return name


def calendar_file(
    booking: Booking, manage_link: str = "", cancelled: bool = False, attendee: str = ""
) -> bytes:
    """The booking as an iCalendar file, with texts in the current language."""
    if booking.on_behalf and booking.subject_name:
        summary = _("Termin beim Sozialen Duo für %(name)s", name=booking.subject_name)
    else:
        summary = _("Termin beim Sozialen Duo")
    lines = [_("Ihre Nummer: %(reference)s", reference=booking.request.reference)]
    lines.append(place(booking))
    if manage_link:
        lines.append(_("Termin verschieben oder absagen: %(link)s", link=manage_link))
    lines.append(_("Im Notfall rufen Sie bitte sofort 112 an."))
    domain = _sender_address().rpartition("@")[2] or "localhost"
    appointment = ics.Appointment(
        uid=f"{booking.uid}@{domain}",
        sequence=booking.sequence,
        start=booking.slot_start,
        end=booking.slot_end,
        summary=summary,
        location=place(booking),
        description="\n".join(lines),
        organizer_email=_sender_address(),
        attendee_email=attendee,
        url=manage_link,
    )
    return ics.calendar_bytes(appointment, stamp=utcnow(), cancelled=cancelled)


def _staff_facts(booking: Booking) -> dict[str, object]:
    """What the staff email may carry: no names, no notes, no contact details."""
    with force_locale(STAFF_LOCALE):
        group = choices.TOPIC_GROUPS.get(booking.topic, "other")
        return {
            "place_name": labels.location_name(booking.location),
            "topic_group": str(labels.TOPIC_GROUPS[group]),
            "language": str(labels.portal_language(booking.locale)),
        }


def _queue_staff(session: Session, booking: Booking, change: str) -> None:
    link = external_url(
        "staff.request_detail", lang=STAFF_LOCALE, reference=booking.request.reference
    )
    outbox.enqueue(
        session,
        _compose(
            f"staff_booking_{change}",
            "staff_booking",
            booking.request.town.inbox_email,
            STAFF_LOCALE,
            {},
            help_request=booking.request,
            booking=booking,
            change=change,
            link=link,
            **_staff_facts(booking),
        ),
    )


def _queue_booker(
    session: Session,
    booking: Booking,
    kind: str,
    template: str,
    link: str,
    calendar: str = "",
    confirm: bool = True,
) -> None:
    if not booking.email or not confirm:
        return
    with force_locale(catalog_of(booking.locale)):
        place_text = place(booking)
        data = None
        if calendar:
            data = calendar_file(
                booking, link, cancelled=calendar == "cancel", attendee=booking.email
            )
    email = _compose(
        kind,
        template,
        booking.email,
        booking.locale,
        {},
        help_request=booking.request,
        booking=booking,
        place=place_text,
        manage_link=link,
        booking_link=external_url("booking.start", lang=booking.locale),
    )
    if data is not None:
        method = "CANCEL" if calendar == "cancel" else "PUBLISH"
        email = dataclasses.replace(
            email,
            attachment_name=ICS_NAME,
            attachment_type=f"{ics.CONTENT_TYPE}; method={method}",
            attachment_data=data,
        )
    outbox.enqueue(session, email)


def queue_booking_made(
    session: Session, booking: Booking, token: str | None, confirm: bool = True
) -> None:
    """Tell the town's inbox about the new appointment and send the booker the confirmation.

    ``confirm=False`` (the address had its confirmations for today) tells the inbox only.
    """
    _queue_staff(session, booking, "new")
    link = manage_url(booking, token) if token else ""
    _queue_booker(
        session, booking, "booking_confirmation", "booking_confirmation", link, "publish", confirm
    )


def queue_booking_moved(
    session: Session, booking: Booking, token: str | None, confirm: bool = True
) -> None:
    """Tell the inbox and the booker the new time; the calendar entry replaces the old one."""
    _queue_staff(session, booking, "moved")
    link = manage_url(booking, token) if token else ""
    _queue_booker(
        session, booking, "booking_moved", "booking_confirmation", link, "publish", confirm
    )


def queue_booking_cancelled(session: Session, booking: Booking, confirm: bool = True) -> None:
    """Tell the inbox and the booker that the appointment is cancelled."""
    _queue_staff(session, booking, "cancelled")
    _queue_booker(session, booking, "booking_cancelled", "booking_cancelled", "", "cancel", confirm)


def queue_booking_reminder(session: Session, booking: Booking) -> None:
    """Remind the booker of tomorrow's appointment (only with an email address)."""
    _queue_booker(session, booking, "booking_reminder", "booking_reminder", "")
