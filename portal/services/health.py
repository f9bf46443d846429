"""Readiness: is the database reachable, its schema current, the outbox moving?

Each check is one small query, so a load balancer may poll it every few seconds.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .. import migrate
from ..metrics import OutboxFigures
from ..models import OutboxMessage
from . import outbox

UNSENT = ("pending", "sending")
CHECKS = ("database", "migrations", "outbox_backlog", "outbox_age")


@dataclass(frozen=True)
class Thresholds:
    """When the outbox counts as stuck."""

    backlog: int
    age_minutes: int


@dataclass
class Readiness:
    """The outcome of each check, by name (``ok`` or ``fail``)."""

    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """Whether every check passed."""
        return all(outcome == "ok" for outcome in self.checks.values())


@functools.cache
def head_revision() -> str:
    """The newest migration this code brings (read once per process)."""
    return migrate.head_revision()


def schema_revision(session: Session) -> str:
    """The revision the database's schema is at ("" before the first migration)."""
    version = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(version or "")


def unsent(session: Session) -> tuple[int, datetime | None]:
    """How many emails wait to be sent, and when the oldest of them was written."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status.in_(UNSENT)
        )
    ).one()
    return int(count), oldest


def readiness(session: Session, thresholds: Thresholds, now: datetime) -> Readiness:
    """Run every check; a database that does not answer fails all of them."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return Readiness(dict.fromkeys(CHECKS, "fail"))
    result = Readiness({"database": "ok"})
    try:
        current = schema_revision(session)
    except SQLAlchemyError:  # no alembic_version table: never migrated
        session.rollback()
        current = ""
    result.checks["migrations"] = _ok(current == head_revision())
    try:
        count, oldest = unsent(session)
    except SQLAlchemyError:
        result.checks["outbox_backlog"] = result.checks["outbox_age"] = "fail"
        return result
    result.checks["outbox_backlog"] = _ok(count <= thresholds.backlog)
    waited = (now - oldest).total_seconds() if oldest else 0.0
    result.checks["outbox_age"] = _ok(waited <= thresholds.age_minutes * 60)
    return result


def outbox_figures(session: Session, now: datetime) -> OutboxFigures | None:
    """Messages per status and the oldest unsent one's age, for the metrics; ``None`` while
    the database does not answer (the other metrics are served all the same)."""
    try:
        _count, oldest = unsent(session)
        by_status = outbox.status_counts(session)
    except SQLAlchemyError:
        return None
    waited = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return OutboxFigures(by_status, waited)


def _ok(passed: bool) -> str:
    return "ok" if passed else "fail"
