"""Help requests, their drafts, timelines and reference counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .town import Town

REQUEST_STATUSES = ("received", "in_progress", "appointment", "closed", "withdrawn")


class RequestDraft(Base):
    """Answers of an unfinished request, kept on the server; the browser holds only a key."""

    __tablename__ = "request_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ReferenceCounter(Base):
    """The last reference number handed out in a year."""

    __tablename__ = "reference_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)


class HelpRequest(Base):
    """A submitted request for help, routed to one town."""

    __tablename__ = "help_request"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'in_progress', 'appointment', 'closed', 'withdrawn')",
            name="status",
        ),
        CheckConstraint("urgency IN ('normal', 'soon', 'urgent')", name="urgency"),
        Index("ix_help_request_town_status", "town_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"))
    status: Mapped[str] = mapped_column(String(20), default="received")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    respond_by: Mapped[date]
    locale: Mapped[str] = mapped_column(String(5))
    on_behalf: Mapped[bool] = mapped_column(default=False)
    relationship_kind: Mapped[str] = mapped_column(String(20), default="")
    subject_name: Mapped[str] = mapped_column(String(120), default="")
    authority: Mapped[str] = mapped_column(String(20), default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The catalogue offer the request was started from ("ask the Soziales Duo about this").
    catalogue_service_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="SET NULL")
    )
    need_text: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(10))
    contact_method: Mapped[str] = mapped_column(String(30))
    contact_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_times: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(40), default="de")
    interpreter: Mapped[bool] = mapped_column(default=False)
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility_note: Mapped[str] = mapped_column(String(500), default="")
    requester_name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    street: Mapped[str] = mapped_column(String(120), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    draft_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    closed_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]

    town: Mapped[Town] = relationship(lazy="joined")
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.at", cascade="all, delete-orphan"
    )


class RequestEvent(Base):
    """One entry on a request's timeline: submitted, information added, withdrawn, status."""

    __tablename__ = "request_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_request.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    request: Mapped[HelpRequest] = relationship(back_populates="events")
