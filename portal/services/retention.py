"""Deleting what the portal no longer needs, after the periods in the privacy notice.

A request is deleted, not blanked: its row goes with its timeline, bookings, referrals,
private links, emails and received mail. Before that its counts move into the kept figures
in the same transaction (see services/figures.py), so the figures stay the same. Its audit
entries stay for their own period, with the reference only (the database sets their
request to NULL). Nothing here reads a personal column to decide: only states and times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..models import (
    AuditEntry,
    Booking,
    HelpRequest,
    InboundMail,
    OutboxMessage,
    Referral,
    RequestEvent,
    ResidentLink,
    StaffActivation,
    StaffSession,
    utcnow,
)
from ..models.encrypted import without_content
from . import figures, receipts
from .drafts import purge_expired_drafts
from .requests import BERLIN, OPEN_STATUSES

if TYPE_CHECKING:
    from ..config import Settings

# Bulk statements take this many requests at a time (SQLite allows some 32,000 parameters).
CHUNK = 500


@dataclass(frozen=True)
class Periods:
    """How long each kind of data is kept; the privacy notice states the same numbers."""

    closed_days: int = 90
    unclosed_days: int = 365
    warning_days: int = 30
    booking_days: int = 30
    audit_days: int = 365
    outbox_days: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> Periods:
        """The periods configured in ``settings`` (``PORTAL_RETENTION_*``)."""
        return cls(
            closed_days=settings.retention_days_request,
            unclosed_days=settings.retention_days_unclosed,
            warning_days=settings.retention_warning_days,
            booking_days=settings.retention_days_booking,
            audit_days=settings.retention_days_audit,
            outbox_days=settings.retention_days_outbox,
        )


@dataclass(frozen=True)
class PurgeResult:
    """How many records each step deleted or cleared."""

    drafts: int
    requests: int
    bookings: int
    audit_entries: int
    outbox_messages: int
    staff_sessions: int
    security_events: int = 0
    receipts: int = 0


@dataclass(frozen=True)
class Expiry:
    """An open request that nobody closed, and when the purge will delete it."""

    request: HelpRequest
    deleted_on: datetime


BOOKING_PERSONAL = (
    "subject_name",
    "relationship_kind",
    "authority",
    "note",
    "booker_name",
    "phone",
    "email",
    "street",
    "postcode",
    "city",
    "email_index",
    "phone_index",
)


def last_activity(session: Session, requests: Sequence[HelpRequest]) -> dict[int, datetime]:
    """The latest moment anything happened on each request: an event or an appointment."""
    found = {request.id: request.received_at for request in requests}
    ids = list(found)
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        for query in (
            select(RequestEvent.request_id, func.max(RequestEvent.at))
            .where(RequestEvent.request_id.in_(part))
            .group_by(RequestEvent.request_id),
            select(Booking.request_id, func.max(Booking.slot_end))
            .where(Booking.request_id.in_(part))
            .group_by(Booking.request_id),
        ):
            for request_id, moment in session.execute(query):
                found[request_id] = max(found[request_id], moment)
    return found


def _unclosed_since(
    session: Session, before: datetime, town_ids: list[int] | None
) -> list[HelpRequest]:
    """Open requests received before ``before`` (only those can be idle that long)."""
    query = (
        select(HelpRequest)
        .where(
            HelpRequest.status.in_(OPEN_STATUSES),
            HelpRequest.received_at <= before,
            HelpRequest.anonymised_at.is_(None),
        )
        .options(*without_content(HelpRequest))
    )
    if town_ids is not None:
        query = query.where(HelpRequest.town_id.in_(town_ids))
    return list(session.scalars(query.order_by(HelpRequest.received_at)))


def expiring(
    session: Session, periods: Periods, now: datetime, town_ids: list[int] | None = None
) -> list[Expiry]:
    """Open requests the purge deletes within the warning period, the soonest first.

    Anything done on a request (a note, a call, a message) counts as activity and moves its
    deletion on; closing it starts the shorter period after closing instead.
    """
    idle = timedelta(days=periods.unclosed_days)
    warn_from = now - idle + timedelta(days=periods.warning_days)
    candidates = _unclosed_since(session, warn_from, town_ids)
    latest = last_activity(session, candidates)
    found = [
        Expiry(request, latest[request.id] + idle)
        for request in candidates
        if latest[request.id] <= warn_from
    ]
    return sorted(found, key=lambda expiry: (expiry.deleted_on, expiry.request.reference))


def _due_requests(session: Session, periods: Periods, now: datetime) -> list[HelpRequest]:
    """Requests past their period: closed long enough ago, or idle too long without closing."""
    closed = (
        select(HelpRequest)
        .where(
            HelpRequest.status == "closed",
            HelpRequest.closed_at <= now - timedelta(days=periods.closed_days),
            HelpRequest.anonymised_at.is_(None),
        )
        .options(*without_content(HelpRequest))
    )
    # Two purges at once (a timer on two servers) never take the same request, so its
    # counts move into the kept figures once (PostgreSQL; SQLite writes one at a time).
    due = list(session.scalars(closed.with_for_update(skip_locked=True, of=HelpRequest)))
    # Rows an earlier version blanked instead of deleting: their figures are kept already.
    blanked = select(HelpRequest).where(HelpRequest.anonymised_at.is_not(None))
    due.extend(session.scalars(blanked.with_for_update(skip_locked=True, of=HelpRequest)))
    idle_before = now - timedelta(days=periods.unclosed_days)
    candidates = _unclosed_since(session, idle_before, None)
    latest = last_activity(session, candidates)
    idle_ids = [request.id for request in candidates if latest[request.id] <= idle_before]
    if idle_ids:
        due.extend(
            session.scalars(
                select(HelpRequest)
                .where(HelpRequest.id.in_(idle_ids), HelpRequest.status.in_(OPEN_STATUSES))
                .with_for_update(skip_locked=True, of=HelpRequest)
            )
        )
    return due


def delete_requests(session: Session, requests: Iterable[HelpRequest], now: datetime) -> int:
    """Delete requests with everything that belongs to them, keeping their figures.

    Requests an earlier version anonymised are already in the kept figures and are only
    deleted. Audit entries stay (the database sets their request to NULL).
    """
    session.flush()  # changes made just before (a withdrawal) must not follow the rows later
    doomed = list(requests)
    counted = [request for request in doomed if request.anonymised_at is None]
    figures.keep(session, counted, now.astimezone(BERLIN).date())
    ids = [request.id for request in doomed]
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        for owned in (RequestEvent, Referral, ResidentLink, Booking, InboundMail):
            session.execute(
                delete(owned).where(owned.request_id.in_(part)),
                execution_options={"synchronize_session": False},
            )
        # Emails still to be sent (telling the booker an appointment is cancelled) go out;
        # their body goes after delivery like any other.
        unsent = OutboxMessage.status.in_(("pending", "sending"))
        session.execute(
            delete(OutboxMessage).where(OutboxMessage.request_id.in_(part), ~unsent),
            execution_options={"synchronize_session": False},
        )
        for mentions in (OutboxMessage, AuditEntry):
            session.execute(
                update(mentions).where(mentions.request_id.in_(part)).values(request_id=None),
                execution_options={"synchronize_session": False},
            )
        session.execute(
            delete(HelpRequest).where(HelpRequest.id.in_(part)),
            execution_options={"synchronize_session": False},
        )
    for request in doomed:
        session.expunge(request)
    return len(doomed)


def erase(session: Session, request: HelpRequest, now: datetime | None = None) -> None:
    """Delete one request at once, at its requester's wish (Art. 17 DSGVO); figures stay.

    The row is locked first (PostgreSQL), so a purge or a second erasure at the same moment
    cannot count the request into the figures twice: whoever comes second finds it gone.
    """
    locked = session.scalar(
        select(HelpRequest.id).where(HelpRequest.id == request.id).with_for_update()
    )
    if locked is None:
        return
    delete_requests(session, [request], now or utcnow())


def clear_bookings(session: Session, before: datetime, now: datetime) -> int:
    """Remove the booker's details from bookings whose appointment ended before ``before``.

    The row stays while its request exists (time, place and state are part of the
    request's history); the private link stops working.
    """
    cleared = session.execute(
        update(Booking)
        .where(Booking.slot_end <= before, Booking.cleared_at.is_(None))
        .values({name: "" for name in BOOKING_PERSONAL} | {"token_hash": None, "cleared_at": now}),
        execution_options={"synchronize_session": False},
    )
    return int(cleared.rowcount or 0)  # type: ignore[attr-defined]


def _delete_old_audit(session: Session, before: datetime) -> int:
    """Audit entries past their period, unless their request still holds personal data.

    The log must show who saw a request for as long as there is something to see (the
    database refuses deleting such an entry before then).
    """
    audit = session.execute(
        delete(AuditEntry).where(
            AuditEntry.at <= before,
            or_(
                AuditEntry.request_id.is_(None),
                AuditEntry.request_id.in_(
                    select(HelpRequest.id).where(HelpRequest.anonymised_at.is_not(None))
                ),
            ),
        )
    )
    return int(audit.rowcount or 0)  # type: ignore[attr-defined]


def _delete_old_mail(session: Session, before: datetime) -> int:
    """Emails past the outbox period, and received mail that belongs to no request."""
    outbox = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_(("sent", "failed", "bounced")),
            OutboxMessage.created_at <= before,
        )
    )
    session.execute(
        delete(InboundMail).where(
            InboundMail.request_id.is_(None), InboundMail.received_at <= before
        )
    )
    return int(outbox.rowcount or 0)  # type: ignore[attr-defined]


def purge(session: Session, periods: Periods, now: datetime | None = None) -> PurgeResult:
    """Apply every retention period once; running it again at the same ``now`` changes nothing."""
    now = now or utcnow()
    requests = delete_requests(session, _due_requests(session, periods, now), now)
    bookings = clear_bookings(session, now - timedelta(days=periods.booking_days), now)
    session.execute(delete(ResidentLink).where(ResidentLink.expires_at <= now))
    # An activation link that was used or has expired opens nothing: its hash goes.
    session.execute(
        delete(StaffActivation).where(
            or_(StaffActivation.used_at.is_not(None), StaffActivation.expires_at <= now)
        )
    )
    sessions = session.execute(
        delete(StaffSession).where(StaffSession.last_seen_at <= now - timedelta(days=2))
    )
    return PurgeResult(
        drafts=purge_expired_drafts(session, now),
        requests=requests,
        bookings=bookings,
        audit_entries=_delete_old_audit(session, now - timedelta(days=periods.audit_days)),
        outbox_messages=_delete_old_mail(session, now - timedelta(days=periods.outbox_days)),
        staff_sessions=int(sessions.rowcount or 0),  # type: ignore[attr-defined]
        receipts=receipts.purge_expired(session, now),
    )
