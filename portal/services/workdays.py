"""Working days in NRW: no weekends, no public holidays of North Rhine-Westphalia."""

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=16)
def _nrw_holidays(year: int) -> frozenset[date]:
    """The public holidays of North Rhine-Westphalia in ``year``."""
    return frozenset(holidays.Germany(subdiv="NW", years=year).keys())


def is_public_holiday(day: date) -> bool:
    """Whether ``day`` is a public holiday in North Rhine-Westphalia."""
    return day in _nrw_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a public holiday in NRW."""
    return day.weekday() < 5 and day not in _nrw_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current
