"""Free consultation slots, computed from weekly rules in Europe/Berlin.

Rules are wall-clock times in Berlin. Each slot's local start is turned into an aware
datetime with :mod:`zoneinfo` and stored in UTC, so a Monday 9:00 slot is 08:00 UTC in
winter and 07:00 UTC in summer. A wall time that does not exist (the hour skipped on the
last Sunday of March) yields no slot; a wall time that exists twice (the last Sunday of
October) yields one slot, at its first occurrence. NRW public holidays and closures have
no slots; neither has anything that starts before ``now`` plus the lead time or after the
horizon; slots overlapping an active booking are not free.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Booking, ConsultationClosure, ConsultationLocation, ConsultationRule
from .errors import SlotUnavailable
from .workdays import is_public_holiday

BERLIN = ZoneInfo("Europe/Berlin")
_KEY = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$", re.ASCII)


@dataclass(frozen=True)
class Policy:
    """How far ahead people may book, and how soon a slot may start at the earliest."""

    horizon_days: int = 56
    lead_minutes: int = 120

    def earliest(self, now: datetime) -> datetime:
        """The first moment a booked slot may start."""
        return now + timedelta(minutes=self.lead_minutes)

    def last_day(self, now: datetime) -> date:
        """The last local day that can be booked."""
        return now.astimezone(BERLIN).date() + timedelta(days=self.horizon_days)


@dataclass(frozen=True, order=True)
class Slot:
    """One bookable consultation time at one location, in UTC."""

    start: datetime
    end: datetime
    location_id: int = field(compare=False)

    @property
    def key(self) -> str:
        """The identifier a form sends back, e.g. ``20261201T0800Z``."""
        return slot_key(self.start)

    @property
    def minutes(self) -> int:
        """How long the consultation lasts, in minutes."""
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def local_start(self) -> datetime:
        """The start in Berlin time."""
        return self.start.astimezone(BERLIN)

    @property
    def local_end(self) -> datetime:
        """The end in Berlin time."""
        return self.end.astimezone(BERLIN)

    @property
    def day(self) -> date:
        """The local day the slot is on."""
        return self.local_start.date()


def slot_key(start: datetime) -> str:
    """The form identifier of a slot starting at ``start`` (UTC, minute precision)."""
    return start.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def parse_slot_key(key: str) -> datetime:
    """The UTC start a form identifier names; :class:`SlotUnavailable` when malformed."""
    match = _KEY.match(key or "")
    if not match:
        raise SlotUnavailable("malformed")
    try:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        raise SlotUnavailable("malformed") from None


def local_wall_time(day: date, at: time) -> datetime | None:
    """The aware Berlin datetime for a wall-clock time, or ``None`` if it does not exist."""
    local = datetime.combine(day, at, tzinfo=BERLIN)  # fold=0: the first of two in autumn
    back = local.astimezone(UTC).astimezone(BERLIN)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local


class RuleTimes(NamedTuple):
    """The plain facts of a weekly rule, read once per computation (ORM access is slow)."""

    weekday: int
    start_time: time
    end_time: time
    slot_minutes: int
    valid_from: date | None
    valid_to: date | None


def _applies(rule: RuleTimes, day: date) -> bool:
    return (
        rule.weekday == day.weekday()
        and (rule.valid_from is None or rule.valid_from <= day)
        and (rule.valid_to is None or day <= rule.valid_to)
    )


def _steady_offset(day: date) -> timedelta | None:
    """Berlin's UTC offset on ``day`` if it does not change that day, else ``None``."""
    first = datetime.combine(day, time(0), tzinfo=BERLIN).utcoffset()
    last = datetime.combine(day, time(23, 59), tzinfo=BERLIN).utcoffset()
    return first if first == last else None


def rule_slots(location_id: int, rules: Iterable[RuleTimes], day: date) -> list[Slot]:
    """Every slot the rules give on ``day``, before holidays, closures and bookings."""
    offset = _steady_offset(day)
    slots: list[Slot] = []
    applying = 0
    for rule in rules:
        if not _applies(rule, day):
            continue
        applying += 1
        step = timedelta(minutes=rule.slot_minutes)
        wall = datetime.combine(day, rule.start_time)
        end = datetime.combine(day, rule.end_time)
        while wall + step <= end:
            if offset is not None:  # an ordinary day: one subtraction
                start = (wall - offset).replace(tzinfo=UTC)
                slots.append(Slot(start, start + step, location_id))
            else:  # the last Sunday of March or October
                local = local_wall_time(day, wall.time())
                if local is not None:
                    start = local.astimezone(UTC)
                    slots.append(Slot(start, start + step, location_id))
            wall += step
    return sorted(set(slots)) if applying > 1 else slots


def _rules(session: Session, location: ConsultationLocation) -> dict[int, list[RuleTimes]]:
    """The location's rules by weekday."""
    rows = session.execute(
        select(
            ConsultationRule.weekday,
            ConsultationRule.start_time,
            ConsultationRule.end_time,
            ConsultationRule.slot_minutes,
            ConsultationRule.valid_from,
            ConsultationRule.valid_to,
        ).where(ConsultationRule.location_id == location.id)
    )
    by_weekday: dict[int, list[RuleTimes]] = {}
    for row in rows:
        by_weekday.setdefault(row[0], []).append(RuleTimes(*row))
    return by_weekday


@dataclass(frozen=True)
class Closed:
    """The closures that touch some days: days closed whole, and shorter closed times (UTC)."""

    days: set[date]
    times: list[tuple[datetime, datetime]]

    def hides(self, slot: Slot) -> bool:
        """Whether a closure covers any part of ``slot``."""
        return any(begin < slot.end and slot.start < end for begin, end in self.times)


def closure_bounds(
    first_day: date, last_day: date, start_time: time | None, end_time: time | None
) -> tuple[datetime, datetime]:
    """The UTC start and end of a closure given in Berlin days and (optional) times of day."""
    begin = datetime.combine(first_day, start_time or time(0), tzinfo=BERLIN)
    if end_time is None:
        until = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=BERLIN)
    else:
        until = datetime.combine(last_day, end_time, tzinfo=BERLIN)
    return begin.astimezone(UTC), until.astimezone(UTC)


def _closed(session: Session, location: ConsultationLocation, first: date, last: date) -> Closed:
    closures = session.execute(
        select(
            ConsultationClosure.first_day,
            ConsultationClosure.last_day,
            ConsultationClosure.start_time,
            ConsultationClosure.end_time,
        ).where(
            (ConsultationClosure.location_id == location.id)
            | ConsultationClosure.location_id.is_(None),
            ConsultationClosure.first_day <= last,
            ConsultationClosure.last_day >= first,
        )
    )
    closed = Closed(set(), [])
    for first_day, last_day, start_time, end_time in closures:
        whole_from = first_day if start_time in (None, time(0)) else first_day + timedelta(days=1)
        whole_to = last_day if end_time is None else last_day - timedelta(days=1)
        if whole_from > first_day or whole_to < last_day:
            closed.times.append(closure_bounds(first_day, last_day, start_time, end_time))
        day = max(whole_from, first)
        while day <= min(whole_to, last):
            closed.days.add(day)
            day += timedelta(days=1)
    return closed


class Taken:
    """The times held by active bookings, to ask quickly whether a slot overlaps one.

    A slot overlaps a booking when it starts before the booking ends and ends after it
    starts, so a booking of 9:00–9:30 also blocks a 9:20 slot after the slot length changed.
    """

    def __init__(self, held: Iterable[tuple[datetime, datetime]]) -> None:
        ordered = sorted(held)
        self.starts = [start for start, _end in ordered]
        self.latest_end: list[datetime] = []
        for _start, end in ordered:
            self.latest_end.append(max(end, self.latest_end[-1]) if self.latest_end else end)

    def overlaps(self, slot: Slot) -> bool:
        """Whether an active booking holds any part of ``slot``."""
        before_end = bisect_left(self.starts, slot.end)  # bookings starting before it ends
        return before_end > 0 and self.latest_end[before_end - 1] > slot.start


def _taken(session: Session, location: ConsultationLocation, first: date, last: date) -> Taken:
    lower = datetime.combine(first, time(0), tzinfo=BERLIN).astimezone(UTC)
    upper = datetime.combine(last + timedelta(days=1), time(0), tzinfo=BERLIN).astimezone(UTC)
    rows = session.execute(
        select(Booking.slot_start, Booking.slot_end).where(
            Booking.location_id == location.id,
            Booking.status == "active",
            Booking.slot_end > lower,
            Booking.slot_start < upper,
        )
    )
    return Taken((start, end) for start, end in rows)


def _open_slots(
    session: Session, location: ConsultationLocation, first: date, last: date
) -> list[Slot]:
    """Rule slots from ``first`` to ``last`` (local days), without holidays and closures."""
    rules = _rules(session, location)
    closed = _closed(session, location, first, last)
    slots: list[Slot] = []
    day = first
    while day <= last:
        todays = rules.get(day.weekday())
        if todays and day not in closed.days and not is_public_holiday(day):
            slots.extend(rule_slots(location.id, todays, day))
        day += timedelta(days=1)
    if closed.times:
        return [slot for slot in slots if not closed.hides(slot)]
    return slots


def free_slots(
    session: Session,
    location: ConsultationLocation,
    now: datetime,
    policy: Policy,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[Slot]:
    """The free slots of ``location`` between two local days (default: today to the horizon)."""
    today = now.astimezone(BERLIN).date()
    first = max(first_day or today, today)
    last = min(last_day or policy.last_day(now), policy.last_day(now))
    if last < first:
        return []
    earliest = policy.earliest(now)
    taken = _taken(session, location, first, last)
    return [
        slot
        for slot in _open_slots(session, location, first, last)
        if slot.start >= earliest and not taken.overlaps(slot)
    ]


def check_slot(
    session: Session,
    location: ConsultationLocation,
    start: datetime,
    now: datetime,
    policy: Policy,
) -> Slot:
    """The free slot starting at ``start``; :class:`SlotUnavailable` says why it is not."""
    if start < policy.earliest(now):
        raise SlotUnavailable("past")
    day = start.astimezone(BERLIN).date()
    if day > policy.last_day(now):
        raise SlotUnavailable("outside")
    found = [slot for slot in _open_slots(session, location, day, day) if slot.start == start]
    if not found:
        raise SlotUnavailable("outside")
    if _taken(session, location, day, day).overlaps(found[0]):
        raise SlotUnavailable("taken")
    return found[0]


def next_free_slots(
    session: Session,
    location: ConsultationLocation,
    now: datetime,
    policy: Policy,
    limit: int = 5,
    after: datetime | None = None,
) -> list[Slot]:
    """The first ``limit`` free slots (optionally only those starting after ``after``)."""
    slots = free_slots(session, location, now, policy)
    if after is not None:
        later = [slot for slot in slots if slot.start > after]
        slots = later + [slot for slot in slots if slot.start <= after]
    return slots[:limit]


@dataclass(frozen=True)
class DayPage:
    """One page of days of the slot list: its number, how many there are, and its days.

    ``last_day`` is the page's last day as shown, which stops at the horizon.
    """

    number: int
    pages: int
    first_day: date
    last_day: date


def day_page(now: datetime, policy: Policy, page_days: int, requested: int) -> DayPage:
    """The page of ``page_days`` days numbered ``requested`` (kept within the horizon)."""
    pages = policy.horizon_days // page_days + 1
    number = min(max(requested, 0), pages - 1)
    first = now.astimezone(BERLIN).date() + timedelta(days=number * page_days)
    last = first + timedelta(days=page_days - 1)
    return DayPage(number, pages, first, min(last, policy.last_day(now)))


def group_by_day(slots: Iterable[Slot]) -> list[tuple[date, list[Slot]]]:
    """Slots grouped by their local day, in order."""
    return [(day, list(group)) for day, group in groupby(sorted(slots), key=lambda s: s.day)]


def bookable_locations(session: Session) -> list[ConsultationLocation]:
    """Active locations in display order."""
    return list(
        session.scalars(
            select(ConsultationLocation)
            .where(ConsultationLocation.active.is_(True))
            .order_by(ConsultationLocation.position, ConsultationLocation.id)
        )
    )


def location_by_code(session: Session, code: str) -> ConsultationLocation | None:
    """The active location with ``code``, if any."""
    if not code or len(code) > 30:
        return None
    return session.scalar(
        select(ConsultationLocation).where(
            ConsultationLocation.code == code, ConsultationLocation.active.is_(True)
        )
    )
