"""The outbox: emails stored with their cause, claimed and delivered by a worker."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from ..models import OutboxMessage, utcnow

CLAIM_SECONDS = 300
BASE_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class Email:
    """A composed email, ready to be stored in the outbox."""

    kind: str
    recipient: str
    subject: str
    body_text: str
    body_html: str
    message_id: str
    locale: str = "de"
    reply_to: str = ""
    request_id: int | None = None
    attachment_name: str = ""
    attachment_type: str = ""
    attachment_data: bytes | None = None
    # An S/MIME enveloped-data entity sent instead of the text and HTML parts.
    encrypted_mime: bytes | None = None


def enqueue(session: Session, email: Email) -> OutboxMessage:
    """Store ``email`` in the caller's transaction; it is sent only once that commits."""
    message = OutboxMessage(
        message_id=email.message_id,
        kind=email.kind,
        recipient=email.recipient,
        reply_to=email.reply_to,
        subject=email.subject,
        body_text=email.body_text,
        body_html=email.body_html,
        locale=email.locale,
        request_id=email.request_id,
        attachment_name=email.attachment_name,
        attachment_type=email.attachment_type,
        attachment_data=email.attachment_data,
        encrypted_mime=email.encrypted_mime,
    )
    session.add(message)
    session.flush()
    return message


def claim_due(session: Session, limit: int = 20, now: datetime | None = None) -> list[int]:
    """Mark up to ``limit`` due messages as being sent by this worker and return their ids.

    A claim lasts :data:`CLAIM_SECONDS`; a worker that dies mid-send leaves the claim to
    expire, and the message is tried again with the same Message-ID. On PostgreSQL rows are
    locked with ``FOR UPDATE SKIP LOCKED`` so that several workers never claim the same row.
    """
    now = now or utcnow()
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until <= now),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status="sending", claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        )
    return ids


def lock_next_due(session: Session, now: datetime | None = None) -> OutboxMessage | None:
    """PostgreSQL: claim the next due message by locking its row until this transaction ends.

    The caller sends the message and records the outcome in the same transaction. The row
    lock is the claim: other workers skip the row (``SKIP LOCKED``), and when this worker dies,
    even by SIGKILL, PostgreSQL ends its transaction with the connection and the message is
    due again at once, not after a claim expired. The session gives up after
    :data:`CLAIM_SECONDS` without a word from the worker (a machine that vanished), like a claim.
    """
    session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = '{CLAIM_SECONDS}s'"))
    ids = claim_due(session, limit=1, now=now)
    return session.get_one(OutboxMessage, ids[0]) if ids else None


def drop_content(message: OutboxMessage) -> None:
    """Forget what a message said and carried; its metadata (kind, recipient, Message-ID,
    times, status) stays for the timeline and for bounces that come back later.

    Bodies and attachments may hold a private link (status, booking, activation) or an
    ``.ics`` with one: once delivered, a copy of the database must hold no usable link.
    """
    message.body_text = ""
    message.body_html = ""
    message.attachment_data = None
    message.encrypted_mime = None
    message.cleared_at = utcnow()


def mark_sent(session: Session, message: OutboxMessage) -> None:
    """Record a successful delivery and drop the message's content."""
    drop_content(message)
    message.status = "sent"
    message.sent_at = utcnow()
    message.attempts += 1
    message.claimed_until = None
    message.last_error = ""


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter, capped at an hour."""
    ceiling = min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** max(0, attempts - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not security


def mark_failed(
    session: Session, message: OutboxMessage, error: str, permanent: bool, max_attempts: int
) -> None:
    """Record a failed attempt: retry later after a temporary error, give up otherwise."""
    message.attempts += 1
    message.claimed_until = None
    message.last_error = error[:500]
    if permanent or message.attempts >= max_attempts:
        message.status = "failed"
    else:
        message.status = "pending"
        message.next_attempt_at = utcnow() + timedelta(seconds=backoff_seconds(message.attempts))


def status_counts(session: Session) -> dict[str, int]:
    """How many messages are in each status."""
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {status: count for status, count in rows}


def failed_messages(session: Session, limit: int = 50) -> list[OutboxMessage]:
    """The most recent messages that could not be delivered."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "failed")
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def retry_failed(session: Session) -> int:
    """Put every failed message back in the queue; returns how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def undelivered(session: Session, since: datetime, limit: int = 100) -> list[OutboxMessage]:
    """Messages that failed or came back as undeliverable since ``since``, newest first."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                or_(
                    (OutboxMessage.status == "bounced") & (OutboxMessage.bounced_at >= since),
                    (OutboxMessage.status == "failed") & (OutboxMessage.created_at >= since),
                )
            )
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
