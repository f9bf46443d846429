"""When what the public pages show last changed: one revision per area."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, String, event, insert, update
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from .base import Base, utcnow


class ContentRevision(Base):
    """Raised in the same transaction as every change to the catalogue or the towns.

    Caches of public pages and of search results are keyed by it, so a change shows at once
    wherever it is read, in every process.
    """

    __tablename__ = "content_revision"

    area: Mapped[str] = mapped_column(String(20), primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime]


# What public pages show, by area. Drafts and the change history are staff-only: not listed.
AREAS: dict[str, str] = {
    "catalogue_organization": "catalogue",
    "catalogue_organization_text": "catalogue",
    "catalogue_service": "catalogue",
    "catalogue_service_text": "catalogue",
    "catalogue_service_topic": "catalogue",
    "catalogue_service_area": "catalogue",
    "catalogue_service_language": "catalogue",
    "catalogue_phone": "catalogue",
    "catalogue_schedule": "catalogue",
    "catalogue_location": "catalogue",
    "catalogue_location_text": "catalogue",
    "catalogue_service_at_location": "catalogue",
    "catalogue_search_document": "catalogue",
    "town": "towns",
}


def _area_of(instance: object) -> str | None:
    table = getattr(type(instance), "__tablename__", None)
    return AREAS.get(table) if isinstance(table, str) else None


def raise_revision(connection: Connection, areas: Iterable[str]) -> None:
    """Count one change in each area, on ``connection`` (so in the changing transaction)."""
    now = utcnow()
    for area in sorted(set(areas)):
        raised = connection.execute(
            update(ContentRevision)
            .where(ContentRevision.area == area)
            .values(revision=ContentRevision.revision + 1, changed_at=now)
        )
        if raised.rowcount == 0:  # an emptied database; migrations write the rows
            connection.execute(
                insert(ContentRevision).values(area=area, revision=1, changed_at=now)
            )


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: object) -> None:
    """A flush that wrote public content raises its area's revision."""
    changed = {
        area
        for instance in (*session.new, *session.deleted, *session.dirty)
        if (area := _area_of(instance))
        and (instance not in session.dirty or session.is_modified(instance))
    }
    if changed:
        raise_revision(session.connection(), changed)


@event.listens_for(Session, "do_orm_execute")
def _bulk_write(state: ORMExecuteState) -> None:
    """``session.execute(update(…)/delete(…)/insert(…))`` on public content raises it too."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    table = getattr(mapper, "local_table", None) if mapper is not None else None
    area = AREAS.get(getattr(table, "name", ""))
    if area:
        raise_revision(state.session.connection(), [area])
