"""The help catalogue, after Open Referral HSDS 3.0, with its text stored per language.

Every record keeps its HSDS identifier (a UUID) so an export and a re-import give the same
catalogue. Text that a reader sees lives in ``*_text`` tables, one row per language; German is
required, other languages are optional and fall back to German on the page.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .staff import StaffUser

SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed")
COSTS = ("free", "partly", "paid", "unknown")
LOCATION_TYPES = ("physical", "postal", "virtual")


class Organization(Base):
    """Who provides a service."""

    __tablename__ = "catalogue_organization"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    demo: Mapped[bool] = mapped_column(default=False)
    last_modified: Mapped[datetime]
    # Raised by each publication of an edit; a draft built on an older version is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    texts: Mapped[list[OrganizationText]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OrganizationText.lang"
    )


class OrganizationText(Base):
    """An organisation's name and description in one language."""

    __tablename__ = "catalogue_organization_text"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_organization.id", ondelete="CASCADE"), primary_key=True
    )
    lang: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class Service(Base):
    """An offer of help: what it is, for whom, what it costs, how to get it."""

    __tablename__ = "catalogue_service"
    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'inactive', 'defunct', 'temporarily closed')", name="status"
        ),
        CheckConstraint("cost IN ('free', 'partly', 'paid', 'unknown')", name="cost"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_organization.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="active")
    email: Mapped[str] = mapped_column(String(254), default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    minimum_age: Mapped[int | None]
    maximum_age: Mapped[int | None]
    cost: Mapped[str] = mapped_column(String(10), default="unknown")
    demo: Mapped[bool] = mapped_column(default=False)
    last_modified: Mapped[datetime] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    organization: Mapped[Organization] = relationship(lazy="joined")
    texts: Mapped[list[ServiceText]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ServiceText.lang"
    )
    topics: Mapped[list[ServiceTopic]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ServiceTopic.topic"
    )
    areas: Mapped[list[ServiceArea]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ServiceArea.town"
    )
    languages: Mapped[list[ServiceLanguage]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ServiceLanguage.position"
    )
    phones: Mapped[list[Phone]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Phone.position"
    )
    schedules: Mapped[list[Schedule]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Schedule.position"
    )
    locations: Mapped[list[ServiceAtLocation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ServiceAtLocation.position"
    )


class ServiceText(Base):
    """Everything a reader sees of a service, in one language."""

    __tablename__ = "catalogue_service_text"

    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="CASCADE"), primary_key=True
    )
    lang: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    alternate_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    eligibility_description: Mapped[str] = mapped_column(Text, default="")
    application_process: Mapped[str] = mapped_column(Text, default="")
    fees_description: Mapped[str] = mapped_column(Text, default="")
    schedule_note: Mapped[str] = mapped_column(Text, default="")


class ServiceTopic(Base):
    """A service's place in the catalogue's taxonomy (our topics)."""

    __tablename__ = "catalogue_service_topic"

    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(30), primary_key=True, index=True)
    attribute_id: Mapped[str] = mapped_column(String(36), unique=True)


class ServiceArea(Base):
    """A town the service serves."""

    __tablename__ = "catalogue_service_area"
    __table_args__ = (UniqueConstraint("service_id", "town"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="CASCADE"), index=True
    )
    town: Mapped[str] = mapped_column(String(20), index=True)


class ServiceLanguage(Base):
    """A language the service is delivered in (ISO 639-1)."""

    __tablename__ = "catalogue_service_language"
    __table_args__ = (UniqueConstraint("service_id", "code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(5), index=True)
    position: Mapped[int] = mapped_column(default=0)


class Phone(Base):
    """A telephone number of a service."""

    __tablename__ = "catalogue_phone"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(20), default="voice")
    position: Mapped[int] = mapped_column(default=0)


class Schedule(Base):
    """Weekly opening hours: on these days, from ``opens_at`` to ``closes_at`` (local time)."""

    __tablename__ = "catalogue_schedule"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="CASCADE"), index=True
    )
    byday: Mapped[str] = mapped_column(String(30))
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)
    position: Mapped[int] = mapped_column(default=0)


class Location(Base):
    """Where a service is delivered: an address, or ``virtual`` for phone and home visits."""

    __tablename__ = "catalogue_location"
    __table_args__ = (
        CheckConstraint("location_type IN ('physical', 'postal', 'virtual')", name="type"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    location_type: Mapped[str] = mapped_column(String(10), default="physical")
    address_1: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state_province: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="DE")
    address_id: Mapped[str | None] = mapped_column(String(36))
    accessibility_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    texts: Mapped[list[LocationText]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="LocationText.lang"
    )


class LocationText(Base):
    """A location's name and accessibility description in one language."""

    __tablename__ = "catalogue_location_text"

    location_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_location.id", ondelete="CASCADE"), primary_key=True
    )
    lang: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    accessibility: Mapped[str] = mapped_column(Text, default="")


class ServiceAtLocation(Base):
    """A service delivered at a location."""

    __tablename__ = "catalogue_service_at_location"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_location.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)

    location: Mapped[Location] = relationship(lazy="joined")


class CatalogueDraft(Base):
    """An editor's unpublished change of one record (or a new record), kept as JSON.

    The public pages, the search, the API and the export read only the published tables;
    a draft reaches them when it is published. ``base_version`` is the record's version the
    draft was made from (``None`` for a new record); ``revision`` counts the draft's saves.
    """

    __tablename__ = "catalogue_draft"
    __table_args__ = (UniqueConstraint("kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(36))
    base_version: Mapped[int | None]
    revision: Mapped[int] = mapped_column(default=1)
    data: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime]

    updated_by: Mapped[StaffUser | None] = relationship(lazy="joined")


class CatalogueChange(Base):
    """One step in a catalogue record's history: who did what when, and which fields."""

    __tablename__ = "catalogue_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(20))
    fields: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(index=True)

    staff: Mapped[StaffUser | None] = relationship(lazy="joined")


class SearchDocument(Base):
    """The folded text a search in one language looks at (German where a translation lacks).

    SQLite indexes it with FTS5 and PostgreSQL with a GIN index over a ``tsvector``; both are
    created by the migration, outside these models.
    """

    __tablename__ = "catalogue_search_document"
    __table_args__ = (
        UniqueConstraint("service_id", "lang"),
        # Covers a listing by name: the documents (with their long text) are never read.
        Index("ix_catalogue_search_document_lang_title", "lang", "title", "service_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="CASCADE"), index=True
    )
    lang: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
