"""Reminder emails the day before an appointment, queued once per booking."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from ..config import settings_of
from ..db import get_db
from ..models import utcnow
from ..services import bookings
from .bookings import queue_booking_reminder


def send_due_reminders(app: Flask, now: datetime | None = None) -> int:
    """Queue a reminder for every active booking of tomorrow (Berlin) not yet reminded.

    Marking a booking and queuing its email happen in one transaction, so running this
    twice, or in two processes at once, reminds each booking once.
    """
    settings = settings_of(app)
    # Links in emails are built with url_for, which needs a request context.
    with app.test_request_context(base_url=settings.public_url), get_db(app).session() as session:
        claimed = bookings.claim_reminders(session, now or utcnow())
        for booking in claimed:
            queue_booking_reminder(session, booking)
        return len(claimed)
