"""Entering consultation hours: weekly rules, closures, and the bookings a change leaves out.

The free slots themselves come from :mod:`portal.services.slots`, the same code that builds
the residents' slot list; this module only stores rules and closures, checks them, and finds
the booked appointments that no longer fit the hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Booking, ConsultationClosure, ConsultationLocation, ConsultationRule
from .slots import BERLIN, closure_bounds
from .workdays import is_public_holiday

# Dates further out than this are a typing error, not a plan.
LATEST_YEARS = 5


@dataclass(frozen=True)
class RuleFacts:
    """What a weekly rule says, as entered in the form."""

    weekday: int
    start_time: time
    end_time: time
    slot_minutes: int
    valid_from: date | None
    valid_to: date | None


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def slots_fit(facts: RuleFacts) -> bool:
    """Whether the hours divide into whole slots of the given length (at least one)."""
    length = _minutes(facts.end_time) - _minutes(facts.start_time)
    return (
        facts.slot_minutes > 0 and length >= facts.slot_minutes and length % facts.slot_minutes == 0
    )


def _periods_overlap(
    first_from: date | None, first_to: date | None, second_from: date | None, second_to: date | None
) -> bool:
    return (first_to is None or second_from is None or second_from <= first_to) and (
        second_to is None or first_from is None or first_from <= second_to
    )


def overlapping_rule(
    session: Session,
    location: ConsultationLocation,
    facts: RuleFacts,
    ignore_id: int | None = None,
) -> ConsultationRule | None:
    """Another rule of the location on the same weekday whose hours and validity overlap."""
    for rule in rules_of(session, location):
        if rule.id == ignore_id or rule.weekday != facts.weekday:
            continue
        times_overlap = rule.start_time < facts.end_time and facts.start_time < rule.end_time
        if times_overlap and _periods_overlap(
            rule.valid_from, rule.valid_to, facts.valid_from, facts.valid_to
        ):
            return rule
    return None


def rules_of(session: Session, location: ConsultationLocation) -> list[ConsultationRule]:
    """The weekly rules of ``location``, by weekday, time and validity."""
    return list(
        session.scalars(
            select(ConsultationRule)
            .where(ConsultationRule.location_id == location.id)
            .order_by(
                ConsultationRule.weekday,
                ConsultationRule.start_time,
                ConsultationRule.valid_from,
                ConsultationRule.id,
            )
        )
    )


def location_by_id(session: Session, location_id: int) -> ConsultationLocation | None:
    """The consultation location ``location_id``, if any."""
    return session.get(ConsultationLocation, location_id)


def rule_of(
    session: Session, location: ConsultationLocation, rule_id: int
) -> ConsultationRule | None:
    """The rule ``rule_id`` if it belongs to ``location``."""
    rule = session.get(ConsultationRule, rule_id)
    return rule if rule is not None and rule.location_id == location.id else None


def delete_rule(session: Session, rule: ConsultationRule) -> None:
    """Remove a weekly rule entered by mistake; the caller commits."""
    session.delete(rule)


def save_rule(
    session: Session,
    location: ConsultationLocation,
    facts: RuleFacts,
    rule: ConsultationRule | None = None,
) -> ConsultationRule:
    """Add a rule to ``location``, or change ``rule`` to ``facts``; the caller commits."""
    if rule is None:
        rule = ConsultationRule(location_id=location.id)
        session.add(rule)
    rule.weekday = facts.weekday
    rule.start_time = facts.start_time
    rule.end_time = facts.end_time
    rule.slot_minutes = facts.slot_minutes
    rule.valid_from = facts.valid_from
    rule.valid_to = facts.valid_to
    session.flush()
    return rule


def version_of(rule: ConsultationRule) -> str:
    """A fingerprint of the rule as stored, so that an edit sees whether someone changed it."""
    facts = facts_of(rule)
    return "|".join(
        (
            str(facts.weekday),
            facts.start_time.strftime("%H:%M"),
            facts.end_time.strftime("%H:%M"),
            str(facts.slot_minutes),
            facts.valid_from.isoformat() if facts.valid_from else "",
            facts.valid_to.isoformat() if facts.valid_to else "",
        )
    )


def facts_of(rule: ConsultationRule) -> RuleFacts:
    """The facts of a stored rule."""
    return RuleFacts(
        rule.weekday,
        rule.start_time,
        rule.end_time,
        rule.slot_minutes,
        rule.valid_from,
        rule.valid_to,
    )


def locations(session: Session) -> list[ConsultationLocation]:
    """Every consultation location in display order, active ones first."""
    return list(
        session.scalars(
            select(ConsultationLocation).order_by(
                ConsultationLocation.active.desc(),
                ConsultationLocation.position,
                ConsultationLocation.id,
            )
        )
    )


def closures_for(
    session: Session, location: ConsultationLocation | None, since: date
) -> list[ConsultationClosure]:
    """Closures that end on or after ``since``: of one location and of all, or every one."""
    query = select(ConsultationClosure).where(ConsultationClosure.last_day >= since)
    if location is not None:
        query = query.where(
            (ConsultationClosure.location_id == location.id)
            | ConsultationClosure.location_id.is_(None)
        )
    return list(session.scalars(query.order_by(ConsultationClosure.first_day)))


def closure_by_id(session: Session, closure_id: int) -> ConsultationClosure | None:
    """The closure ``closure_id``, if any."""
    return session.get(ConsultationClosure, closure_id)


def delete_closure(session: Session, closure: ConsultationClosure) -> None:
    """Remove a closure: its days have consultation hours again; the caller commits."""
    session.delete(closure)


@dataclass(frozen=True)
class ClosureFacts:
    """What a closure says, as entered: days, optional times of day, and why."""

    first_day: date
    last_day: date
    start_time: time | None = None
    end_time: time | None = None
    reason: str = ""


def add_closure(
    session: Session, location: ConsultationLocation | None, facts: ClosureFacts
) -> ConsultationClosure:
    """Close one location (or all) from ``first_day`` to ``last_day``; the caller commits.

    The same closure entered twice (a double submit, two colleagues) is stored once.
    """
    same = session.scalar(
        select(ConsultationClosure).where(
            ConsultationClosure.location_id.is_(None)
            if location is None
            else ConsultationClosure.location_id == location.id,
            ConsultationClosure.first_day == facts.first_day,
            ConsultationClosure.last_day == facts.last_day,
            _same_time(ConsultationClosure.start_time, facts.start_time),
            _same_time(ConsultationClosure.end_time, facts.end_time),
            ConsultationClosure.reason == facts.reason,
        )
    )
    if same is not None:
        return same
    closure = ConsultationClosure(
        location_id=location.id if location else None,
        first_day=facts.first_day,
        last_day=facts.last_day,
        start_time=facts.start_time,
        end_time=facts.end_time,
        reason=facts.reason,
    )
    session.add(closure)
    session.flush()
    return closure


def _same_time(column: Any, value: time | None) -> Any:
    return column.is_(None) if value is None else column == value


def closed_between(closure: ConsultationClosure) -> tuple[datetime, datetime]:
    """When a closure starts and ends, in UTC."""
    return closure_bounds(closure.first_day, closure.last_day, closure.start_time, closure.end_time)


def closed_part(closure: ConsultationClosure, day: date) -> tuple[datetime, datetime] | None:
    """The part of ``day`` that ``closure`` closes (UTC), or ``None`` if it leaves it open."""
    begin, end = closed_between(closure)
    day_begin, day_end = closure_bounds(day, day, None, None)
    part = (max(begin, day_begin), min(end, day_end))
    return part if part[0] < part[1] else None


def _fits(
    booking: Booking, rules: list[ConsultationRule], closed: list[ConsultationClosure]
) -> bool:
    start = booking.slot_start.astimezone(BERLIN)
    end = booking.slot_end.astimezone(BERLIN)
    day = start.date()
    if is_public_holiday(day) or end.date() != day:
        return False
    for closure in closed:
        begin, until = closed_between(closure)
        if begin < booking.slot_end and booking.slot_start < until:
            return False
    return any(
        rule.weekday == day.weekday()
        and (rule.valid_from is None or rule.valid_from <= day)
        and (rule.valid_to is None or day <= rule.valid_to)
        and rule.start_time <= start.time()
        and end.time() <= rule.end_time
        for rule in rules
    )


def outside_hours(
    session: Session, now: datetime, location: ConsultationLocation | None = None
) -> list[Booking]:
    """Future active bookings that no longer fall into the hours, fall into a closure, or are
    at a location no longer open for bookings.

    Staff move these (or cancel them); nothing is dropped on its own.
    """
    query = select(Booking).where(Booking.status == "active", Booking.slot_start > now)
    if location is not None:
        query = query.where(Booking.location_id == location.id)
    found = list(session.scalars(query.order_by(Booking.slot_start)))
    today = now.astimezone(BERLIN).date()
    rules: dict[int, list[ConsultationRule]] = {}
    closed: dict[int, list[ConsultationClosure]] = {}
    outside = []
    for booking in found:
        where = booking.location
        if where.id not in rules:
            rules[where.id] = rules_of(session, where)
            closed[where.id] = closures_for(session, where, today)
        if not where.active or not _fits(booking, rules[where.id], closed[where.id]):
            outside.append(booking)
    return outside


def week_of(day: date) -> date:
    """The Monday of the week ``day`` is in."""
    return day - timedelta(days=day.weekday())


def holidays_in(first: date, last: date) -> list[date]:
    """The NRW public holidays from ``first`` to ``last``."""
    days = []
    day = first
    while day <= last:
        if is_public_holiday(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def latest_sensible(today: date) -> date:
    """The last date a rule or closure may name."""
    return today.replace(year=today.year + LATEST_YEARS, day=min(today.day, 28))
