"""iCalendar (RFC 5545) files for consultation appointments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar

from .slots import BERLIN

PRODID = "-//Soziales Duo//Portal//DE"
CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class Appointment:
    """What goes into an appointment's calendar entry; texts are already translated."""

    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    location: str
    description: str
    organizer_email: str
    organizer_name: str = "Soziales Duo"
    attendee_email: str = ""
    url: str = ""


def calendar_bytes(appointment: Appointment, stamp: datetime, cancelled: bool = False) -> bytes:
    """An RFC 5545 calendar with one event in Europe/Berlin time and its VTIMEZONE.

    A new or moved appointment is ``METHOD:PUBLISH`` (a higher ``SEQUENCE`` replaces the
    earlier entry with the same UID in calendar programs); a cancelled one is
    ``METHOD:CANCEL`` with ``STATUS:CANCELLED``.
    """
    start = appointment.start.astimezone(BERLIN)
    end = appointment.end.astimezone(BERLIN)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    calendar.add_component(
        icalendar.Timezone.from_tzid(
            "Europe/Berlin",
            first_date=date(start.year - 1, 1, 1),
            last_date=date(end.year + 2, 1, 1),
        )
    )
    event = icalendar.Event()
    event.add("uid", appointment.uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", appointment.summary)
    if appointment.location:
        event.add("location", appointment.location)
    event.add("description", appointment.description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = icalendar.vCalAddress(f"mailto:{appointment.organizer_email}")
    organizer.params["cn"] = icalendar.vText(appointment.organizer_name)
    event.add("organizer", organizer)
    if appointment.attendee_email:
        attendee = icalendar.vCalAddress(f"mailto:{appointment.attendee_email}")
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)
    if appointment.url:
        event.add("url", appointment.url)
    if not cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", appointment.summary)
        alarm.add("trigger", timedelta(hours=-2))
        event.add_component(alarm)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
