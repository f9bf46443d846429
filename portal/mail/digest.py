"""The daily digest email of each town's inbox, queued once per town and day."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import force_locale
from sqlalchemy.orm import Session

from .. import labels
from ..config import Settings, settings_of
from ..db import get_db, working_session
from ..links import external_url
from ..models import Booking, Town, utcnow
from ..services import digest, outbox, retention
from . import STAFF_LOCALE, _compose


def _request_link(reference: str) -> str:
    """The staff area's page of the request ``reference``."""
    return external_url("staff.request_detail", lang=STAFF_LOCALE, reference=reference)


def _place(booking: Booking) -> str:
    """The appointment's place by name only: never a home address."""
    with force_locale(STAFF_LOCALE):
        return labels.location_name(booking.location)


def queue_digest(session: Session, content: digest.Digest) -> None:
    """Queue the digest email to the town's inbox, in German."""
    outbox.enqueue(
        session,
        _compose(
            "staff_digest",
            "staff_digest",
            content.town.inbox_email,
            STAFF_LOCALE,
            {},
            digest=content,
            request_link=_request_link,
            place=_place,
            staff_link=external_url("staff.inbox", lang=STAFF_LOCALE),
        ),
    )


def _send_for(session: Session, town: Town, day: date, now: datetime, settings: Settings) -> bool:
    """Claim and queue one town's digest in the caller's transaction; False if already done."""
    if not digest.claim(session, town, day):
        return False
    periods = retention.Periods.from_settings(settings)
    content = digest.collect(session, town, day, now, periods)
    if content.empty and not settings.digest_send_empty:
        return False
    queue_digest(session, content)
    return True


def send_digests(app: Flask, day: date | None = None, now: datetime | None = None) -> int:
    """Queue the digest of ``day`` (today in Berlin) for every town not yet done; returns how many.

    Each town's record and email commit together, so two workers send each digest once.
    """
    settings = settings_of(app)
    now = now or utcnow()
    day = day or digest.local_day(now)
    database = get_db(app)
    with database.session() as session:
        town_ids = [town.id for town in digest.towns_without_digest(session, day)]
    if not town_ids:
        return 0
    queued = 0
    for town_id in town_ids:
        with working_session(app, settings.public_url) as session:
            town = session.get_one(Town, town_id)
            queued += _send_for(session, town, day, now, settings)
    return queued


def send_due_digests(app: Flask, now: datetime | None = None) -> int:
    """Send today's digests if the configured hour has come on a working day."""
    settings = settings_of(app)
    now = now or utcnow()
    if not digest.is_due(now, settings.digest_hour):
        return 0
    return send_digests(app, now=now)
