"""The revision of what public pages show, for caches of pages and search results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import ContentRevision


@dataclass(frozen=True)
class Revision:
    """Every change to the catalogue or the towns gives a different revision."""

    number: int
    changed_at: datetime | None

    @property
    def tag(self) -> str:
        """A short text for cache keys and ETags; it changes with every change of content.

        The time is part of it, so a database that was emptied and filled again does not meet
        an old tag by counting up to the same number.
        """
        stamp = self.changed_at.timestamp() if self.changed_at else 0.0
        return f"{self.number}.{stamp:.6f}"


def current(session: Session) -> Revision:
    """The revision now: the sum of the areas' counters and the newest change."""
    number, changed_at = session.execute(
        select(
            func.coalesce(func.sum(ContentRevision.revision), 0),
            func.max(ContentRevision.changed_at),
        )
    ).one()
    return Revision(int(number), changed_at)
