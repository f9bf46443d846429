"""Help requests, their drafts, timelines and reference counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .contact import ConsentRecord, ContactDetails
from .encrypted import EncryptedJSON, EncryptedText
from .town import Town

if TYPE_CHECKING:
    from .staff import StaffUser

# Every status code of a request, in one place; their words are in portal.labels.
# received = new, nobody has taken it yet; waiting = for the resident or another office.
REQUEST_STATUSES = ("received", "in_progress", "waiting", "closed")
OPEN_STATUSES = REQUEST_STATUSES[:-1]
# What the resident sees of them (services.requests.resident_status): a request that waits for
# another office is in progress to them, and a closed one may have been withdrawn by them.
RESIDENT_STATUSES = ("received", "in_progress", "waiting_resident", "closed", "withdrawn")
OUTCOMES = ("helped", "referred", "no_contact", "withdrawn", "duplicate", "not_our_task")
WAITING_FOR = ("resident", "office")
CHANNELS = ("online", "phone", "counter")


class RequestDraft(Base):
    """Answers of an unfinished request, kept on the server; the browser holds only a key."""

    __tablename__ = "request_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ReferenceCounter(Base):
    """The last reference number handed out in a year."""

    __tablename__ = "reference_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)


class HelpRequest(ContactDetails, ConsentRecord, Base):
    """A submitted request for help, routed to one town."""

    __tablename__ = "help_request"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'in_progress', 'waiting', 'closed')", name="status"
        ),
        CheckConstraint("urgency IN ('normal', 'soon', 'urgent')", name="urgency"),
        CheckConstraint("status != 'closed' OR outcome != ''", name="closed_outcome"),
        CheckConstraint("channel IN ('online', 'phone', 'counter')", name="channel"),
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
    subject_name: Mapped[str] = mapped_column(EncryptedText, default="")
    authority: Mapped[str] = mapped_column(String(20), default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The catalogue offer the request was started from ("ask the Soziales Duo about this").
    catalogue_service_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_service.id", ondelete="SET NULL")
    )
    need_text: Mapped[str] = mapped_column(EncryptedText, default="")
    urgency: Mapped[str] = mapped_column(String(10))
    contact_method: Mapped[str] = mapped_column(String(30))
    contact_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_times: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(40), default="de")
    interpreter: Mapped[bool] = mapped_column(default=False)
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility_note: Mapped[str] = mapped_column(EncryptedText, default="")
    requester_name: Mapped[str] = mapped_column(EncryptedText, default="")
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    draft_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    closed_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]
    # The staff workflow: who took it, what it waits for, how it ended.
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    waiting_for: Mapped[str] = mapped_column(String(10), default="", server_default="")
    outcome: Mapped[str] = mapped_column(String(20), default="", server_default="")
    duplicate_of: Mapped[str] = mapped_column(String(16), default="", server_default="")
    channel: Mapped[str] = mapped_column(String(10), default="online", server_default="online")

    town: Mapped[Town] = relationship(lazy="joined")
    assignee: Mapped[StaffUser | None] = relationship(lazy="joined")
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.at", cascade="all, delete-orphan"
    )


class RequestEvent(Base):
    """One entry on a request's timeline, with who did it when.

    ``public`` events (messages between staff and resident, and the resident's own actions)
    are shown on the resident's status page; every other event is for staff only.
    """

    __tablename__ = "request_event"
    __table_args__ = (Index("ix_request_event_request", "request_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_request.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(EncryptedText, default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # Codes that describe the change (old and new status, outcome, urgency, colleague id).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    public: Mapped[bool] = mapped_column(default=False, server_default=false())

    request: Mapped[HelpRequest] = relationship(back_populates="events")
    staff: Mapped[StaffUser | None] = relationship(lazy="joined")


class ResidentLink(Base):
    """A private link to the status page sent with a staff message; stored hashed, expires."""

    __tablename__ = "resident_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_request.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Referral(Base):
    """A warm hand-over to another office: what was passed on, with consent, and a follow-up."""

    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted')", name="status"),
        CheckConstraint("consent IN ('consent', 'legal')", name="consent"),
        Index("ix_referral_status_follow_up", "status", "follow_up_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_request.id", ondelete="CASCADE"))
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_organization.id", ondelete="SET NULL")
    )
    office_name: Mapped[str] = mapped_column(String(200))
    passed_on: Mapped[str] = mapped_column(EncryptedText, default="")
    consent: Mapped[str] = mapped_column(String(10))
    follow_up_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    accepted_at: Mapped[datetime | None]

    request: Mapped[HelpRequest] = relationship(lazy="joined")
