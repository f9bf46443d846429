"""Consultation hours (locations, weekly rules, closures) and the bookings made in them."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .contact import ConsentRecord, ContactDetails
from .encrypted import EncryptedText
from .request import HelpRequest
from .town import Town

LOCATION_KINDS = ("in_person", "phone", "home_visit")
BOOKING_STATUSES = ("active", "cancelled", "moved")
ACTIVE = text("status = 'active'")


class ConsultationLocation(Base):
    """Where a consultation takes place: a town hall, by phone, or at the person's home."""

    __tablename__ = "consultation_location"
    __table_args__ = (
        CheckConstraint("kind IN ('in_person', 'phone', 'home_visit')", name="kind"),
        CheckConstraint("kind != 'in_person' OR town_id IS NOT NULL", name="in_person_town"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("town.id"))
    name: Mapped[str] = mapped_column(String(120))
    street: Mapped[str] = mapped_column(String(120), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    town: Mapped[Town | None] = relationship(lazy="joined")

    @property
    def address(self) -> str:
        """The street address on one line, empty for phone and home visits."""
        if not self.street:
            return ""
        return f"{self.street}, {self.postcode} {self.city}".strip()


class ConsultationRule(Base):
    """A weekly consultation hour: on ``weekday`` from ``start`` to ``end``, in slots.

    Times are wall-clock times in Europe/Berlin; ``valid_from``/``valid_to`` bound the
    dates the rule applies to (both inclusive, open when empty).
    """

    __tablename__ = "consultation_rule"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_minutes"),
        CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to", name="validity"
        ),
        Index("ix_consultation_rule_location", "location_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("consultation_location.id", ondelete="CASCADE")
    )
    weekday: Mapped[int]
    start_time: Mapped[time]
    end_time: Mapped[time]
    slot_minutes: Mapped[int]
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]

    location: Mapped[ConsultationLocation] = relationship()


class ConsultationClosure(Base):
    """Time without consultation hours (leave, training); no location means every location.

    Closed from ``first_day`` at ``start_time`` to ``last_day`` at ``end_time``, wall-clock
    times in Europe/Berlin; an empty start means from the start of the first day, an empty
    end until the end of the last day.
    """

    __tablename__ = "consultation_closure"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="day_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation_location.id", ondelete="CASCADE")
    )
    first_day: Mapped[date]
    last_day: Mapped[date]
    start_time: Mapped[time | None]
    end_time: Mapped[time | None]
    reason: Mapped[str] = mapped_column(String(200), default="")


class Booking(ContactDetails, ConsentRecord, Base):
    """One person's claim on one slot.

    A slot belongs to at most one *active* booking: a partial unique index over
    ``(location_id, slot_start)`` restricted to ``status = 'active'`` enforces it in the
    database, on SQLite and PostgreSQL alike. Moving a booking marks its row ``moved`` and
    inserts a new active row with the same ``uid`` and a higher ``sequence`` in one
    transaction; the private link's token hash travels to the new row.
    """

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'cancelled', 'moved')", name="status"),
        CheckConstraint("slot_start < slot_end", name="slot_order"),
        Index(
            "uq_booking_active_slot",
            "location_id",
            "slot_start",
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        Index("ix_booking_uid", "uid"),
        Index("ix_booking_status_slot", "status", "slot_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(80))
    sequence: Mapped[int] = mapped_column(default=0)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_request.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("consultation_location.id"))
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="active")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    draft_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    locale: Mapped[str] = mapped_column(String(5), default="de")
    on_behalf: Mapped[bool] = mapped_column(default=False)
    relationship_kind: Mapped[str] = mapped_column(String(20), default="")
    subject_name: Mapped[str] = mapped_column(EncryptedText, default="")
    authority: Mapped[str] = mapped_column(String(20), default="")
    topic: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(EncryptedText, default="")
    booker_name: Mapped[str] = mapped_column(EncryptedText, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    reminder_queued_at: Mapped[datetime | None]
    # When retention cleared the booker's details after the appointment.
    cleared_at: Mapped[datetime | None]

    location: Mapped[ConsultationLocation] = relationship(lazy="joined")
    request: Mapped[HelpRequest] = relationship(lazy="joined")
