"""Reminder emails the day before an appointment, queued once per booking."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from ..config import settings_of
from ..db import working_session
from ..models import utcnow
from ..services import bookings
from .bookings import queue_booking_reminder


def send_due_reminders(app: Flask, now: datetime | None = None) -> int:
    """Queue a reminder for every active booking of tomorrow (Berlin) not yet reminded.

    Marking a booking and queuing its email happen in one transaction, so running this
    twice, or in two processes at once, reminds each booking once.
    """
    settings = settings_of(app)
    with working_session(app, settings.public_url) as session:
        claimed = bookings.claim_reminders(session, now or utcnow())
        for booking in claimed:
            queue_booking_reminder(session, booking)
        return len(claimed)
