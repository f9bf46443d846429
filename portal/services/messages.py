"""Messages between staff and the resident, read on the status page behind a private link."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import HelpRequest, RequestEvent, ResidentLink, StaffUser
from .errors import NoEmailAddress, RequestClosed
from .requests import OPEN_STATUSES
from .tokens import hash_token, new_token


def send_to_resident(
    session: Session,
    request: HelpRequest,
    actor: StaffUser,
    text: str,
    now: datetime,
    link_days: int,
    wait_for_answer: bool,
) -> str:
    """Put a message on the resident's status page; returns a fresh private link token.

    The token is stored only as a hash and expires after ``link_days``; the email that
    carries it is queued by the caller. Without an email address nothing reaches the
    resident online, so the message is refused: only a call or a letter reaches them.
    """
    if request.anonymised_at is not None or request.status not in OPEN_STATUSES:
        raise RequestClosed()
    if not request.email:
        raise NoEmailAddress()
    request.events.append(
        RequestEvent(kind="staff_message", at=now, staff_id=actor.id, text=text, public=True)
    )
    if wait_for_answer:
        request.status = "waiting"
        request.waiting_for = "resident"
    elif request.status == "received":
        request.status = "in_progress"
    if request.assignee_id is None:
        request.assignee = actor
    token = new_token()
    session.add(
        ResidentLink(
            request_id=request.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + timedelta(days=link_days),
        )
    )
    session.flush()
    return token


def answer_from_resident(
    session: Session, request: HelpRequest, text: str, now: datetime
) -> RequestEvent:
    """The resident's answer on the status page; a request waiting for them is worked on again."""
    if request.anonymised_at is not None or request.status not in OPEN_STATUSES:
        raise RequestClosed()
    event = RequestEvent(kind="resident_message", at=now, text=text, public=True)
    request.events.append(event)
    if request.status == "waiting" and request.waiting_for == "resident":
        request.status = "in_progress"
        request.waiting_for = ""
    session.flush()
    return event


def request_by_link(session: Session, token: str, now: datetime) -> HelpRequest | None:
    """The request a message link points to, while the link has not expired."""
    if not token or len(token) > 100:
        return None
    link = session.scalar(select(ResidentLink).where(ResidentLink.token_hash == hash_token(token)))
    if link is None or link.expires_at <= now:
        return None
    return session.get(HelpRequest, link.request_id)


def request_of_expired_link(session: Session, token: str, now: datetime) -> HelpRequest | None:
    """The request behind a message link that has expired (to say so kindly), if any."""
    if not token or len(token) > 100:
        return None
    link = session.scalar(select(ResidentLink).where(ResidentLink.token_hash == hash_token(token)))
    if link is None or link.expires_at > now:
        return None
    return session.get(HelpRequest, link.request_id)


def purge_expired_links(session: Session, now: datetime) -> int:
    """Delete message links that have expired; returns how many."""
    result = session.execute(delete(ResidentLink).where(ResidentLink.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# What the resident sees of the timeline: their own steps and our messages to them; never
# internal notes, calls, assignments or who works on the request.
PUBLIC_KINDS = frozenset(
    {
        "submitted",
        "entered",
        "booked",
        "booking_moved",
        "booking_cancelled",
        "resident_added",
        "withdrawn",
        "staff_message",
        "resident_message",
        "resident_mail",
    }
)


def public_events(request: HelpRequest) -> list[RequestEvent]:
    """The resident's view of the timeline, oldest first."""
    return [event for event in request.events if event.kind in PUBLIC_KINDS]
