"""What the sitemap lists from the catalogue: the visible offers and topics, and when each changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Organization, Service, ServiceTopic
from .catalogue_search import VISIBLE_STATUSES


@dataclass(frozen=True)
class Changed:
    """A catalogue page's key (a service id or a topic code) and when its content last changed."""

    key: str
    last_modified: datetime


def _later(first: datetime, second: datetime | None) -> datetime:
    return first if second is None or first >= second else second


def visible_service_count(session: Session) -> int:
    """How many offers a visitor can open (the sitemap lists each in every language)."""
    statement = (
        select(func.count()).select_from(Service).where(Service.status.in_(VISIBLE_STATUSES))
    )
    return int(session.scalar(statement) or 0)


def visible_services(session: Session, offset: int, limit: int) -> list[Changed]:
    """A slice of the visible offers in a stable order (by id), each with the later of its own
    and its provider's last change (the page shows both)."""
    rows = session.execute(
        select(Service.id, Service.last_modified, Organization.last_modified)
        .join(Organization, Organization.id == Service.organization_id)
        .where(Service.status.in_(VISIBLE_STATUSES))
        .order_by(Service.id)
        .offset(offset)
        .limit(limit)
    )
    return [Changed(key, _later(own, provider)) for key, own, provider in rows]


def visible_topics(session: Session, topics: Sequence[str]) -> list[Changed]:
    """The topics (in the order of ``topics``) that hold a visible offer, each with the last change
    of one of their offers."""
    rows = session.execute(
        select(ServiceTopic.topic, func.max(Service.last_modified))
        .join(Service, Service.id == ServiceTopic.service_id)
        .where(Service.status.in_(VISIBLE_STATUSES))
        .group_by(ServiceTopic.topic)
    )
    changed = {topic: last for topic, last in rows if last is not None}
    return [Changed(topic, changed[topic]) for topic in topics if topic in changed]


def catalogue_changed(session: Session) -> datetime | None:
    """When the catalogue's visible offers last changed (the browse page counts them by topic)."""
    last: datetime | None = session.scalar(
        select(func.max(Service.last_modified)).where(Service.status.in_(VISIBLE_STATUSES))
    )
    return last
