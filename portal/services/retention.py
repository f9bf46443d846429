"""Deleting what the portal no longer needs, after the periods in the privacy notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
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
    StaffSession,
    utcnow,
)
from . import figures
from .drafts import purge_expired_drafts
from .requests import BERLIN


@dataclass(frozen=True)
class PurgeResult:
    """How many records each step removed or anonymised."""

    drafts: int
    requests: int
    audit_entries: int
    outbox_messages: int
    staff_sessions: int


BOOKING_PERSONAL = (
    "subject_name",
    "relationship_kind",
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


def anonymise(request: HelpRequest, now: datetime) -> None:
    """Remove every personal detail from a request and keep only the figures."""
    for name in (
        "subject_name",
        "need_text",
        "accessibility_note",
        "requester_name",
        "phone",
        "email",
        "street",
        "postcode",
        "city",
    ):
        setattr(request, name, "")
    request.relationship_kind = ""
    request.draft_key_hash = None
    request.anonymised_at = now


def purge(
    session: Session,
    request_days: int,
    audit_days: int,
    outbox_days: int,
    now: datetime | None = None,
) -> PurgeResult:
    """Apply every retention period once."""
    now = now or utcnow()
    closed_before = now - timedelta(days=request_days)
    stale = list(
        session.scalars(
            select(HelpRequest)
            .where(
                HelpRequest.status == "closed",
                HelpRequest.closed_at <= closed_before,
                HelpRequest.anonymised_at.is_(None),
            )
            # Two purges at once (a timer on two servers) never take the same request, so its
            # counts move into the kept figures once (PostgreSQL; SQLite writes one at a time).
            .with_for_update(skip_locked=True, of=HelpRequest)
        )
    )
    # The figures keep counting these requests after their details are gone: their counts
    # move into the kept figures in this same transaction (see services/figures.py).
    figures.keep(session, stale, now.astimezone(BERLIN).date())
    for request in stale:
        anonymise(request, now)
        session.execute(
            update(RequestEvent).where(RequestEvent.request_id == request.id).values(text="")
        )
        session.execute(
            update(Booking)
            .where(Booking.request_id == request.id)
            .values({name: "" for name in BOOKING_PERSONAL} | {"token_hash": None})
        )
        session.execute(
            update(Referral).where(Referral.request_id == request.id).values(passed_on="")
        )
        session.execute(
            update(InboundMail)
            .where(InboundMail.request_id == request.id)
            .values(body_text="", subject="", sender="", raw=None)
        )
        session.execute(delete(ResidentLink).where(ResidentLink.request_id == request.id))
    # An entry outlives its period while its request still holds personal data: the log
    # must show who saw it for as long as there is something to see (the database refuses
    # deleting it before then).
    audit = session.execute(
        delete(AuditEntry).where(
            AuditEntry.at <= now - timedelta(days=audit_days),
            or_(
                AuditEntry.request_id.is_(None),
                AuditEntry.request_id.in_(
                    select(HelpRequest.id).where(HelpRequest.anonymised_at.is_not(None))
                ),
            ),
        )
    )
    outbox = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_(("sent", "failed")),
            OutboxMessage.created_at <= now - timedelta(days=outbox_days),
        )
    )
    session.execute(delete(ResidentLink).where(ResidentLink.expires_at <= now))
    # Mail that belongs to no request (bounces, stray messages) goes with the outbox's period.
    session.execute(
        delete(InboundMail).where(
            InboundMail.request_id.is_(None),
            InboundMail.received_at <= now - timedelta(days=outbox_days),
        )
    )
    sessions = session.execute(
        delete(StaffSession).where(StaffSession.last_seen_at <= now - timedelta(days=2))
    )
    return PurgeResult(
        drafts=purge_expired_drafts(session, now),
        requests=len(stale),
        audit_entries=int(audit.rowcount or 0),  # type: ignore[attr-defined]
        outbox_messages=int(outbox.rowcount or 0),  # type: ignore[attr-defined]
        staff_sessions=int(sessions.rowcount or 0),  # type: ignore[attr-defined]
    )
