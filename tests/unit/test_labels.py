"""Every code has a label and every label a code: ``portal.labels`` never drifts from the codes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, Table

from portal import labels
from portal.models import HelpRequest, OutboxMessage, request
from portal.models import booking as booking_models
from portal.models import catalogue as catalogue_models
from portal.models.staff import ROLES
from portal.services import catalogue, choices, requests, security_log, workflow

# Each label table and the codes it labels, in the order the codes are offered.
LABELLED: dict[str, tuple[Mapping[str, Any], Iterable[str]]] = {
    "TOPICS": (labels.TOPICS, choices.TOPICS),
    "TOPIC_GROUPS": (labels.TOPIC_GROUPS, dict.fromkeys(choices.TOPIC_GROUPS.values())),
    "URGENCIES": (labels.URGENCIES, choices.URGENCIES),
    "URGENCY_SHORT": (labels.URGENCY_SHORT, choices.URGENCIES),
    "CONTACT_METHODS": (labels.CONTACT_METHODS, choices.CONTACT_METHODS),
    "DAYS": (labels.DAYS, choices.DAYS),
    "TIMES": (labels.TIMES, choices.TIMES),
    "RELATIONSHIPS": (labels.RELATIONSHIPS, choices.RELATIONSHIPS),
    "AUTHORITIES": (labels.AUTHORITIES, choices.AUTHORITIES),
    "LANGUAGES": (labels.LANGUAGES, choices.LANGUAGES),
    "ACCESSIBILITY": (labels.ACCESSIBILITY, choices.ACCESSIBILITY),
    "ACCESSIBILITY_OTHER": (labels.ACCESSIBILITY_OTHER, choices.ACCESSIBILITY),
    "STATUSES": (labels.STATUSES, request.RESIDENT_STATUSES),
    "STATUS_SHORT": (labels.STATUS_SHORT, request.REQUEST_STATUSES),
    "OUTCOMES": (labels.OUTCOMES, request.OUTCOMES),
    "WAITING_FOR": (labels.WAITING_FOR, request.WAITING_FOR),
    "CHANNELS": (labels.CHANNELS, request.CHANNELS),
    "CALL_RESULTS": (labels.CALL_RESULTS, workflow.PHONE_RESULTS),
    "SECURITY_EVENTS": (labels.SECURITY_EVENTS, security_log.KINDS),
    "ROLE_NAMES": (labels.ROLE_NAMES, ROLES),
    "CATALOGUE_TOPICS": (labels.CATALOGUE_TOPICS, catalogue.TOPICS),
    "CATALOGUE_TOPIC_HINTS": (labels.CATALOGUE_TOPIC_HINTS, catalogue.TOPICS),
    "COSTS": (labels.COSTS, catalogue_models.COSTS),
    "LOCATION_HINTS": (labels.LOCATION_HINTS, booking_models.LOCATION_KINDS),
    "BOOKING_STATUSES": (labels.BOOKING_STATUSES, booking_models.BOOKING_STATUSES),
}

# Label tables whose codes are not one list, and why.
UNLISTED = {
    # A town's office is named by its location (labels.location_name), not by a kind label.
    "LOCATION_KINDS": "in_person has no label",
    # Event kinds and audit actions are written where they happen; a missing label shows the code.
    "EVENTS": "open set",
    "RESIDENT_EVENTS": "a part of EVENTS",
    "AUDIT_ACTIONS": "open set",
    # The reasons of services.errors.SlotUnavailable, raised and checked in several places.
    "SLOT_PROBLEMS": "open set",
    "OUTBOX_STATUSES": "the outbox table's check constraint",
}


@pytest.mark.parametrize("name", sorted(LABELLED))
def test_every_code_has_a_label_and_every_label_a_code(name: str) -> None:
    table, codes = LABELLED[name]
    assert list(table) == list(codes), f"labels.{name} is out of step with its codes"


def test_every_label_table_is_checked_against_its_codes() -> None:
    tables = {
        name
        for name, value in vars(labels).items()
        if name.isupper() and isinstance(value, Mapping)
    }
    assert tables == set(LABELLED) | set(UNLISTED)


def _constraint_codes(table: Table, column: str) -> list[str]:
    """The codes a check constraint ``column IN ('a', 'b')`` allows."""
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            found = re.match(rf"{column} IN \((.*)\)$", str(constraint.sqltext))
            if found:
                return re.findall(r"'([^']+)'", found.group(1))
    raise AssertionError(f"no check constraint on {column}")


def test_the_outbox_statuses_are_those_the_table_allows() -> None:
    allowed = _constraint_codes(OutboxMessage.__table__, "status")  # type: ignore[arg-type]
    assert list(labels.OUTBOX_STATUSES) == allowed


def test_the_resident_events_are_staff_events_too() -> None:
    assert set(labels.RESIDENT_EVENTS) <= set(labels.EVENTS)


@pytest.mark.parametrize("status", request.REQUEST_STATUSES)
def test_the_resident_reads_every_status_in_words(status: str) -> None:
    for waiting_for in ("", *request.WAITING_FOR):
        for outcome in ("", *request.OUTCOMES):
            found = HelpRequest(status=status, waiting_for=waiting_for, outcome=outcome)
            assert requests.resident_status(found) in labels.STATUSES
