"""The staff workflow of a request: take, assign, wait, close, notes, calls and urgency.

Every change is an event on the request's timeline with who and when; the views add the
audit entry. States: received (new) → in_progress (taken by a named colleague) → waiting
(for the resident or another office) → closed with an outcome; a closed request can be
reopened while its content is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from ..models import (
    OUTCOMES,
    WAITING_FOR,
    Booking,
    HelpRequest,
    OutboxMessage,
    RequestEvent,
    StaffUser,
    Town,
)
from .choices import URGENCIES
from .errors import AlreadyTaken, NotPermitted, RequestClosed
from .requests import OPEN_STATUSES

PHONE_RESULTS = ("reached", "not_reached", "voicemail")
# After this many calls in a row that reached nobody, the page suggests closing the request
# as "no contact possible".
UNREACHED_BEFORE_SUGGESTION = 2


def _event(
    request: HelpRequest,
    kind: str,
    actor: StaffUser | None,
    now: datetime,
    text: str = "",
    public: bool = False,
    **data: Any,
) -> RequestEvent:
    event = RequestEvent(
        kind=kind,
        at=now,
        staff_id=actor.id if actor else None,
        text=text,
        public=public,
        data=data,
    )
    request.events.append(event)
    return event


def _ensure_open(request: HelpRequest) -> None:
    if request.status not in OPEN_STATUSES or request.anonymised_at is not None:
        raise RequestClosed()


def take(session: Session, request: HelpRequest, actor: StaffUser, now: datetime) -> None:
    """Take a request: it is in progress and ``actor`` works on it.

    Taking a request that a colleague has already taken is refused with the colleague's
    name, so that two people clicking "take it" in the same email never both work on it.
    """
    _ensure_open(request)
    if request.assignee_id == actor.id:
        return
    # One conditional UPDATE: of two colleagues clicking at the same moment, exactly one
    # finds the request still untaken, on every database and isolation level.
    claimed = session.execute(
        update(HelpRequest)
        .where(HelpRequest.id == request.id, HelpRequest.assignee_id.is_(None))
        .values(
            assignee_id=actor.id,
            status=case(
                (HelpRequest.status == "received", "in_progress"), else_=HelpRequest.status
            ),
        )
    )
    session.refresh(request)
    if not claimed.rowcount:  # type: ignore[attr-defined]
        raise AlreadyTaken(request.assignee.shown_name if request.assignee else "")
    _event(request, "taken", actor, now)
    session.flush()


def assign(
    session: Session, request: HelpRequest, actor: StaffUser, colleague: StaffUser, now: datetime
) -> None:
    """Hand a request to a colleague who may read it."""
    _ensure_open(request)
    if not (colleague.active and colleague.may_read_town(request.town_id)):
        raise NotPermitted()
    if request.assignee_id == colleague.id:
        return
    request.assignee = colleague
    if request.status == "received":
        request.status = "in_progress"
    _event(request, "assigned", actor, now, to=colleague.id, name=colleague.shown_name)
    session.flush()


def release(session: Session, request: HelpRequest, actor: StaffUser, now: datetime) -> None:
    """Give a request back: nobody works on it, and it is new again for the inbox."""
    _ensure_open(request)
    request.assignee = None
    request.status = "received"
    request.waiting_for = ""
    _event(request, "released", actor, now)
    session.flush()


def wait(
    session: Session, request: HelpRequest, actor: StaffUser, waiting_for: str, now: datetime
) -> None:
    """Mark the request as waiting for the resident or for another office."""
    _ensure_open(request)
    if waiting_for not in WAITING_FOR:
        raise NotPermitted()
    request.status = "waiting"
    request.waiting_for = waiting_for
    if request.assignee is None:
        request.assignee = actor
    _event(request, "waiting", actor, now, waiting_for=waiting_for)
    session.flush()


def resume(session: Session, request: HelpRequest, actor: StaffUser, now: datetime) -> None:
    """End the wait: the request is in progress again."""
    _ensure_open(request)
    request.status = "in_progress"
    request.waiting_for = ""
    if request.assignee is None:
        request.assignee = actor
    _event(request, "resumed", actor, now)
    session.flush()


def close(
    session: Session,
    request: HelpRequest,
    actor: StaffUser | None,
    outcome: str,
    now: datetime,
    duplicate_of: str = "",
) -> None:
    """Close a request with an outcome; a duplicate names the request it repeats."""
    _ensure_open(request)
    if outcome not in OUTCOMES:
        raise NotPermitted()
    if outcome == "duplicate":
        original = session.scalar(select(HelpRequest).where(HelpRequest.reference == duplicate_of))
        if original is None or original.id == request.id:
            raise NotPermitted()
        request.duplicate_of = original.reference
    request.status = "closed"
    request.outcome = outcome
    request.waiting_for = ""
    request.closed_at = now
    _event(request, "closed", actor, now, outcome=outcome, duplicate_of=request.duplicate_of)
    session.flush()


def reopen(session: Session, request: HelpRequest, actor: StaffUser, now: datetime) -> None:
    """Open a closed request again (its content is still there)."""
    if request.status != "closed" or request.anonymised_at is not None:
        raise RequestClosed()
    request.status = "in_progress"
    request.outcome = ""
    request.duplicate_of = ""
    request.closed_at = None
    request.assignee = actor
    _event(request, "reopened", actor, now)
    session.flush()


def set_urgency(
    session: Session, request: HelpRequest, actor: StaffUser, urgency: str, now: datetime
) -> None:
    """Change how urgent the request is."""
    _ensure_open(request)
    if urgency not in URGENCIES:
        raise NotPermitted()
    if urgency == request.urgency:
        return
    _event(request, "urgency", actor, now, old=request.urgency, new=urgency)
    request.urgency = urgency
    session.flush()


def forward(
    session: Session, request: HelpRequest, actor: StaffUser, town: Town, now: datetime
) -> None:
    """Send the request to another town's team; whoever worked on it may no longer read it."""
    _ensure_open(request)
    if town.id == request.town_id:
        raise NotPermitted()
    _event(request, "forwarded", actor, now, old=request.town.name, new=town.name)
    request.town = town
    if request.assignee is not None and not request.assignee.may_read_town(town.id):
        request.assignee = None
        request.status = "received"
        request.waiting_for = ""
    session.flush()


def add_note(
    session: Session, request: HelpRequest, actor: StaffUser, text: str, now: datetime
) -> RequestEvent:
    """An internal note: only staff ever see it."""
    if request.anonymised_at is not None:
        raise RequestClosed()
    event = _event(request, "note", actor, now, text=text)
    session.flush()
    return event


def record_call(
    session: Session,
    request: HelpRequest,
    actor: StaffUser,
    result: str,
    note: str,
    now: datetime,
) -> int:
    """Record a phone contact; returns how many calls in a row reached nobody."""
    if request.anonymised_at is not None:
        raise RequestClosed()
    if result not in PHONE_RESULTS:
        raise NotPermitted()
    _event(request, "call", actor, now, text=note, result=result)
    if request.status == "received" and request.assignee is None:
        request.assignee = actor
        request.status = "in_progress"
    session.flush()
    return unreached_in_a_row(request)


def unreached_in_a_row(request: HelpRequest) -> int:
    """Calls since the last contact that reached nobody (the latest first)."""
    count = 0
    for event in reversed(request.events):
        if event.kind == "call":
            if event.data.get("result") == "reached":
                break
            count += 1
        elif event.kind in ("resident_message", "resident_mail", "resident_added"):
            break
    return count


def suggest_no_contact(request: HelpRequest) -> bool:
    """Whether the page should offer closing as "no contact possible"."""
    return request.status in OPEN_STATUSES and (
        unreached_in_a_row(request) >= UNREACHED_BEFORE_SUGGESTION
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the staff timeline: an event, or an email the portal sent."""

    at: datetime
    event: RequestEvent | None = None
    email: OutboxMessage | None = None


def timeline(session: Session, request: HelpRequest) -> list[TimelineEntry]:
    """Events and emails of a request, oldest first."""
    emails = session.scalars(
        select(OutboxMessage).where(OutboxMessage.request_id == request.id)
    ).all()
    entries = [TimelineEntry(event.at, event=event) for event in request.events]
    entries += [TimelineEntry(email.created_at, email=email) for email in emails]
    return sorted(entries, key=lambda entry: entry.at)


def colleagues_for(session: Session, request: HelpRequest) -> list[StaffUser]:
    """Active colleagues who may work on ``request``, by name."""
    found = session.scalars(
        select(StaffUser)
        .where(StaffUser.active.is_(True), StaffUser.role.in_(("caseworker", "coordinator")))
        .order_by(StaffUser.display_name, StaffUser.email)
    )
    return [user for user in found if user.may_read_town(request.town_id)]


def bookings_of(session: Session, request: HelpRequest) -> list[Booking]:
    """A request's bookings, active and past, by time."""
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.request_id == request.id, Booking.status != "moved")
            .order_by(Booking.slot_start)
        )
    )
