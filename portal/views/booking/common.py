"""The booking blueprint and what its pages share: the booking rules and the slot list.

The slot list is computed on every request and every slot identifier that comes back is
checked again by the service; the database has the last word when two people race.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, request

from ... import db, labels
from ...forms.base import parse_number
from ...models import ConsultationLocation, utcnow
from ...services import slots
from .. import current_settings

bp = Blueprint("booking", __name__, url_prefix="/<lang>/booking")

SESSION_DRAFT = "booking_draft"
SESSION_BOOKED = "booking_done"
# The highest page number read from an address; the service keeps it within the horizon.
MAX_PAGE = 999


def policy() -> slots.Policy:
    """How far ahead and how soon slots can be booked, from the settings."""
    settings = current_settings()
    return slots.Policy(settings.booking_horizon_days, settings.booking_lead_minutes)


def chosen_location(answers: dict[str, Any]) -> ConsultationLocation | None:
    """The location the answers name, if it is still bookable."""
    return slots.location_by_code(db.session(), answers.get("location", ""))


def slot_page(location: ConsultationLocation, exclude: datetime | None = None) -> dict[str, Any]:
    """The free slots of one page of days, grouped by day, and the paging facts."""
    now = utcnow()
    rules = policy()
    requested = parse_number(request.args.get("page", "0"), MAX_PAGE) or 0
    page = slots.day_page(now, rules, current_settings().booking_page_days, requested)
    free = slots.free_slots(db.session(), location, now, rules, page.first_day, page.last_day)
    return {
        "groups": slots.group_by_day(slot for slot in free if slot.start != exclude),
        "page": page.number,
        "pages": page.pages,
        "first_day": page.first_day,
        "last_day": page.last_day,
        "location": location,
    }


def slot_problem(reason: str) -> str:
    """The message for a slot that cannot be had."""
    return str(labels.SLOT_PROBLEMS.get(reason, labels.SLOT_PROBLEMS["malformed"]))


def checked_slot(location: ConsultationLocation, key: str) -> slots.Slot:
    """The free slot a form sent back; :class:`SlotUnavailable` when it is not bookable."""
    start = slots.parse_slot_key(key)
    return slots.check_slot(db.session(), location, start, utcnow(), policy())
