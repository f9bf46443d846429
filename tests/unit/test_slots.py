"""Free slots from weekly rules: Berlin wall time across DST, NRW holidays, closures, lead time."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portal.config import settings_of
from portal.db import get_db
from portal.models import ConsultationLocation
from portal.services import schedule, slots
from portal.services.errors import SlotUnavailable
from portal.services.schedule import RuleSpec

POLICY = slots.Policy(horizon_days=56, lead_minutes=120)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with get_db(app).session() as session:
        yield session


def _location(session: Session, *rules: RuleSpec) -> ConsultationLocation:
    location = ConsultationLocation(code="test", kind="phone", name="Telefon")
    session.add(location)
    session.flush()
    for rule in rules:
        schedule.add_rule(session, location, rule)
    return location


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_monday_nine_oclock_is_an_hour_earlier_in_utc_after_the_spring_change(
    session: Session,
) -> None:
    location = _location(session, RuleSpec("test", 0, time(9), time(10), 30))
    free = slots.free_slots(session, location, _utc(2026, 3, 20, 12), POLICY)
    starts = [slot.start for slot in free if slot.day in (date(2026, 3, 23), date(2026, 3, 30))]
    assert starts == [
        _utc(2026, 3, 23, 8, 0),
        _utc(2026, 3, 23, 8, 30),
        _utc(2026, 3, 30, 7, 0),
        _utc(2026, 3, 30, 7, 30),
    ]
    assert all(slot.local_start.hour == 9 for slot in free)


def test_monday_nine_oclock_is_an_hour_later_in_utc_after_the_autumn_change(
    session: Session,
) -> None:
    location = _location(session, RuleSpec("test", 0, time(9), time(9, 30), 30))
    free = slots.free_slots(session, location, _utc(2026, 10, 15, 12), POLICY)
    by_day = {slot.day: slot.start for slot in free}
    assert by_day[date(2026, 10, 19)] == _utc(2026, 10, 19, 7)
    assert by_day[date(2026, 10, 26)] == _utc(2026, 10, 26, 8)
    assert (by_day[date(2026, 10, 26)] - by_day[date(2026, 10, 19)]).days == 7


def test_the_hour_skipped_in_spring_has_no_slots_and_the_doubled_hour_in_autumn_has_one_each(
    session: Session,
) -> None:
    night = _location(session, RuleSpec("test", 6, time(1, 30), time(3, 30), 30))
    spring = [
        s
        for s in slots.free_slots(session, night, _utc(2026, 3, 27, 12), POLICY)
        if s.day == date(2026, 3, 29)
    ]
    # 01:30 CET, then 02:00 and 02:30 do not exist, then 03:00 CEST.
    assert [s.local_start.strftime("%H:%M") for s in spring] == ["01:30", "03:00"]
    assert [s.start for s in spring] == [_utc(2026, 3, 29, 0, 30), _utc(2026, 3, 29, 1, 0)]
    autumn = [
        s
        for s in slots.free_slots(session, night, _utc(2026, 10, 23, 12), POLICY)
        if s.day == date(2026, 10, 25)
    ]
    assert [s.local_start.strftime("%H:%M") for s in autumn] == ["01:30", "02:00", "02:30", "03:00"]
    assert len({s.start for s in autumn}) == 4
    assert all(a.end <= b.start for a, b in itertools.pairwise(autumn))


def test_nrw_holidays_have_no_slots(session: Session) -> None:
    thursday = _location(session, RuleSpec("test", 3, time(14), time(15), 30))
    days = {s.day for s in slots.free_slots(session, thursday, _utc(2026, 5, 25, 12), POLICY)}
    assert date(2026, 5, 28) in days and date(2026, 6, 11) in days
    assert date(2026, 6, 4) not in days  # Fronleichnam, a holiday in NRW
    monday = _location_with_code(session, "mon", RuleSpec("mon", 0, time(9), time(10), 60))
    days = {s.day for s in slots.free_slots(session, monday, _utc(2027, 10, 20, 12), POLICY)}
    assert date(2027, 10, 25) in days and date(2027, 11, 8) in days
    assert date(2027, 11, 1) not in days  # Allerheiligen, a holiday in NRW


def _location_with_code(session: Session, code: str, rule: RuleSpec) -> ConsultationLocation:
    location = ConsultationLocation(code=code, kind="phone", name="Telefon")
    session.add(location)
    session.flush()
    schedule.add_rule(session, location, rule)
    return location


def test_closures_remove_their_days_for_one_location_or_for_all(session: Session) -> None:
    location = _location(session, *(RuleSpec("test", d, time(10), time(11), 60) for d in range(5)))
    other = _location_with_code(session, "other", RuleSpec("other", 1, time(10), time(11), 60))
    schedule.add_closure(session, date(2026, 12, 1), date(2026, 12, 3), "Fortbildung", location)
    schedule.add_closure(session, date(2026, 12, 8), date(2026, 12, 8), "Betriebsausflug")
    now = _utc(2026, 11, 27, 12)
    days = {s.day for s in slots.free_slots(session, location, now, POLICY)}
    assert {date(2026, 11, 30), date(2026, 12, 4), date(2026, 12, 9)} <= days
    assert not days & {date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 8)}
    other_days = {s.day for s in slots.free_slots(session, other, now, POLICY)}
    assert date(2026, 12, 1) in other_days and date(2026, 12, 8) not in other_days


def test_no_slot_starts_within_the_lead_time_or_beyond_the_horizon(session: Session) -> None:
    location = _location(session, *(RuleSpec("test", d, time(9), time(12), 60) for d in range(5)))
    now = _utc(2026, 11, 30, 7, 30)  # Monday 8:30 in Berlin
    free = slots.free_slots(session, location, now, POLICY)
    # 9:00 and 10:00 start within two hours; 11:00 Berlin is the first bookable slot.
    assert free[0].start == _utc(2026, 11, 30, 10, 0)
    assert free[-1].day == date(2027, 1, 25)  # the 56th day from today, a Monday
    assert all(slot.start >= _utc(2026, 11, 30, 9, 30) for slot in free)


def test_check_slot_says_why_a_slot_cannot_be_had(session: Session) -> None:
    location = _location(session, RuleSpec("test", 0, time(9), time(12), 30))
    now = _utc(2026, 11, 25, 12)
    good = slots.check_slot(session, location, _utc(2026, 11, 30, 8), now, POLICY)
    assert good.end == _utc(2026, 11, 30, 8, 30)
    cases = {
        "past": _utc(2026, 11, 23, 8),
        "outside": _utc(2026, 11, 30, 8, 10),  # not on the half hour
        "outside ": _utc(2026, 12, 1, 8),  # a Tuesday
        " outside": _utc(2027, 3, 1, 8),  # beyond the horizon
    }
    for reason, start in cases.items():
        with pytest.raises(SlotUnavailable) as caught:
            slots.check_slot(session, location, start, now, POLICY)
        assert caught.value.reason == reason.strip()


@pytest.mark.parametrize(
    "key", ["", "tomorrow", "20261301T0800Z", "20261130T0800", "20261130T0800Z;DROP", "x" * 500]
)
def test_tampered_slot_identifiers_are_refused(key: str) -> None:
    with pytest.raises(SlotUnavailable) as caught:
        slots.parse_slot_key(key)
    assert caught.value.reason == "malformed"


def test_the_demo_schedule_is_seeded_once(app: Flask, session: Session) -> None:
    facts = settings_of(app).towns()
    first = schedule.seed_demo_schedule(session, facts, date(2026, 11, 25))
    second = schedule.seed_demo_schedule(session, facts, date(2026, 11, 25))
    assert first == (len(schedule.DEMO_RULES), 1)
    assert second == (0, 0)
    assert [loc.code for loc in slots.bookable_locations(session)] == [
        "verl",
        "shs",
        "phone",
        "home",
    ]
