"""The daily digest of a town's inbox: what waits, what is due, what did not arrive.

Only references, dates, times, places and codes: never a name, a need or a topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Booking, DigestRun, HelpRequest, OutboxMessage, Referral, Town
from .retention import Expiry, Periods, expiring
from .slots import BERLIN
from .workdays import is_working_day

UNDELIVERED_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class Undelivered:
    """An email that bounced or failed: which request, whether it was for the inbox, when."""

    reference: str
    to_inbox: bool
    status: str
    at: datetime


@dataclass(frozen=True)
class Digest:
    """What one town's digest lists for one day."""

    town: Town
    day: date
    overdue: list[HelpRequest]
    untaken: list[HelpRequest]
    referrals_due: list[Referral]
    appointments: list[Booking]
    undelivered: list[Undelivered]
    # Open requests the retention purge deletes soon, because nothing happened for long.
    expiring: list[Expiry] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether nothing at all is pending."""
        return not (
            self.overdue
            or self.untaken
            or self.referrals_due
            or self.appointments
            or self.undelivered
            or self.expiring
        )


def local_day(now: datetime) -> date:
    """The calendar day in Europe/Berlin at ``now``."""
    return now.astimezone(BERLIN).date()


def is_due(now: datetime, hour: int) -> bool:
    """Whether the digest is due at ``now``: a working day, at or after ``hour`` in Berlin."""
    local = now.astimezone(BERLIN)
    return is_working_day(local.date()) and local.hour >= hour


def towns_without_digest(session: Session, day: date) -> list[Town]:
    """The towns whose digest for ``day`` nobody has sent yet."""
    done = exists().where(DigestRun.town_id == Town.id, DigestRun.day == day)
    return list(session.scalars(select(Town).where(~done).order_by(Town.id)))


def claim(session: Session, town: Town, day: date) -> bool:
    """Record the digest of ``town`` for ``day`` in the caller's transaction.

    False when another worker has recorded it already: the primary key refuses a second row.
    """
    try:
        with session.begin_nested():
            session.add(DigestRun(town_id=town.id, day=day))
            session.flush()
    except IntegrityError:
        return False
    return True


def collect(
    session: Session, town: Town, day: date, now: datetime, periods: Periods | None = None
) -> Digest:
    """Everything the digest of ``town`` lists on ``day``; with ``periods``, also the open
    requests that retention deletes within its warning period."""
    return Digest(
        town=town,
        day=day,
        overdue=_requests(session, town, HelpRequest.respond_by < day),
        untaken=_requests(session, town, HelpRequest.status == "received"),
        referrals_due=_referrals_due(session, town, day),
        appointments=_appointments(session, town, day),
        undelivered=_undelivered(session, town, _undelivered_since(session, town, day, now)),
        expiring=expiring(session, periods, now, [town.id]) if periods else [],
    )


def _requests(session: Session, town: Town, condition: ColumnElement[bool]) -> list[HelpRequest]:
    """Open requests of ``town`` that meet ``condition``, oldest promise first."""
    query = (
        select(HelpRequest)
        .where(HelpRequest.town_id == town.id, HelpRequest.status != "closed", condition)
        .order_by(HelpRequest.respond_by, HelpRequest.reference)
    )
    return list(session.scalars(query))


def _referrals_due(session: Session, town: Town, day: date) -> list[Referral]:
    """Open referrals of ``town``'s requests whose follow-up is today or overdue."""
    query = (
        select(Referral)
        .join(HelpRequest, Referral.request_id == HelpRequest.id)
        .where(
            HelpRequest.town_id == town.id,
            Referral.status == "open",
            Referral.follow_up_on <= day,
        )
        .order_by(Referral.follow_up_on, Referral.id)
    )
    return list(session.scalars(query))


def _appointments(session: Session, town: Town, day: date) -> list[Booking]:
    """Active bookings of ``town``'s requests on ``day`` and the day after (Berlin days)."""
    start = datetime.combine(day, time(0), tzinfo=BERLIN)
    end = datetime.combine(day + timedelta(days=2), time(0), tzinfo=BERLIN)
    query = (
        select(Booking)
        .join(HelpRequest, Booking.request_id == HelpRequest.id)
        .where(
            HelpRequest.town_id == town.id,
            Booking.status == "active",
            Booking.slot_start >= start,
            Booking.slot_start < end,
        )
        .order_by(Booking.slot_start, Booking.id)
    )
    return list(session.scalars(query))


def _undelivered_since(session: Session, town: Town, day: date, now: datetime) -> datetime:
    """The last day, or back to the previous digest if that was longer ago (a weekend)."""
    previous = session.scalar(
        select(func.max(DigestRun.sent_at)).where(DigestRun.town_id == town.id, DigestRun.day < day)
    )
    since = now - UNDELIVERED_WINDOW
    return min(since, previous) if previous is not None else since


def _undelivered(session: Session, town: Town, since: datetime) -> list[Undelivered]:
    """Emails about ``town``'s requests or to its inbox that bounced or failed since ``since``.

    A failed row has no time of failure; its last attempt was due at ``next_attempt_at``.
    """
    query = (
        select(OutboxMessage, HelpRequest.reference)
        .outerjoin(HelpRequest, OutboxMessage.request_id == HelpRequest.id)
        .where(
            or_(HelpRequest.town_id == town.id, OutboxMessage.recipient_index == town.inbox_email),
            or_(
                (OutboxMessage.status == "bounced") & (OutboxMessage.bounced_at >= since),
                (OutboxMessage.status == "failed") & (OutboxMessage.next_attempt_at >= since),
            ),
        )
        .order_by(OutboxMessage.id)
    )
    return [
        Undelivered(
            reference=reference or "",
            to_inbox=message.recipient == town.inbox_email,
            status=message.status,
            at=message.bounced_at or message.next_attempt_at,
        )
        for message, reference in session.execute(query)
    ]
