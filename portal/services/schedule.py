"""Consultation locations from configuration, and the demo consultation hours."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import TownSettings
from ..models import ConsultationClosure, ConsultationLocation, ConsultationRule
from .towns import town_by_slug

PHONE = "phone"
HOME_VISIT = "home"


@dataclass(frozen=True)
class RuleSpec:
    """A weekly consultation hour for seeding: weekday (0 = Monday), from, to, slot length."""

    location: str
    weekday: int
    start: time
    end: time
    slot_minutes: int


DEMO_RULES = (
    RuleSpec("verl", 1, time(9), time(12), 30),
    RuleSpec("verl", 3, time(14), time(17, 30), 30),
    RuleSpec("shs", 0, time(9), time(12), 30),
    RuleSpec("shs", 2, time(14), time(16), 30),
    *(RuleSpec(PHONE, day, time(10), time(12), 20) for day in range(5)),
    RuleSpec(HOME_VISIT, 4, time(9), time(12), 60),
)
DEMO_CLOSURE_REASON = "Urlaub der Koordinatorin (Demo)"


def seed_locations(session: Session, facts: Iterable[TownSettings]) -> list[ConsultationLocation]:
    """Create the missing town halls, phone consultation and home visits.

    A location that exists stays as an administrator edited it.
    """
    wanted: list[dict[str, object]] = []
    for position, fact in enumerate(facts):
        wanted.append(
            {
                "code": fact.slug,
                "kind": "in_person",
                "town": town_by_slug(session, fact.slug),
                "name": f"Rathaus {fact.name}",
                "street": fact.street,
                "postcode": fact.postcode,
                "city": fact.name,
                "position": position,
            }
        )
    wanted.append({"code": PHONE, "kind": "phone", "name": "Telefon", "position": 10})
    wanted.append(
        {"code": HOME_VISIT, "kind": "home_visit", "name": "Besuch zu Hause", "position": 11}
    )
    locations = []
    for values in wanted:
        location = session.scalar(
            select(ConsultationLocation).where(ConsultationLocation.code == values["code"])
        )
        if location is None:
            location = ConsultationLocation(code=values["code"])
            session.add(location)
            for name, value in values.items():
                setattr(location, name, value)
        locations.append(location)
    session.flush()
    return locations


def add_rule(session: Session, location: ConsultationLocation, spec: RuleSpec) -> ConsultationRule:
    """Add one weekly consultation hour to ``location``."""
    rule = ConsultationRule(
        location_id=location.id,
        weekday=spec.weekday,
        start_time=spec.start,
        end_time=spec.end,
        slot_minutes=spec.slot_minutes,
    )
    session.add(rule)
    session.flush()
    return rule


def seed_demo_schedule(
    session: Session, facts: Iterable[TownSettings], today: date
) -> tuple[int, int]:
    """Demo hours for every location without rules, and one closure; safe to run again.

    Returns how many rules and closures were added.
    """
    locations = {loc.code: loc for loc in seed_locations(session, facts)}
    added_rules = 0
    for code, location in locations.items():
        has_rules = session.scalar(
            select(ConsultationRule.id).where(ConsultationRule.location_id == location.id).limit(1)
        )
        if has_rules:
            continue
        for spec in DEMO_RULES:
            if spec.location == code:
                add_rule(session, location, spec)
                added_rules += 1
    added_closures = 0
    if not session.scalar(
        select(ConsultationClosure.id).where(ConsultationClosure.reason == DEMO_CLOSURE_REASON)
    ):
        # Three weeks from now the coordinator is away for a week: no hours anywhere.
        first = today + timedelta(days=21 - today.weekday())
        session.add(
            ConsultationClosure(
                location_id=None,
                first_day=first,
                last_day=first + timedelta(days=4),
                reason=DEMO_CLOSURE_REASON,
            )
        )
        added_closures = 1
    session.flush()
    return added_rules, added_closures


def add_closure(
    session: Session,
    first_day: date,
    last_day: date,
    reason: str,
    location: ConsultationLocation | None = None,
) -> ConsultationClosure:
    """Close one location (or all, without ``location``) from ``first_day`` to ``last_day``."""
    closure = ConsultationClosure(
        location_id=location.id if location else None,
        first_day=first_day,
        last_day=last_day,
        reason=reason,
    )
    session.add(closure)
    session.flush()
    return closure


def rules_of(session: Session, location: ConsultationLocation) -> list[ConsultationRule]:
    """The weekly hours of ``location``, by weekday and time."""
    return list(
        session.scalars(
            select(ConsultationRule)
            .where(ConsultationRule.location_id == location.id)
            .order_by(ConsultationRule.weekday, ConsultationRule.start_time)
        )
    )


def closures(session: Session) -> list[ConsultationClosure]:
    """Every closure, the earliest first."""
    return list(
        session.scalars(select(ConsultationClosure).order_by(ConsultationClosure.first_day))
    )
