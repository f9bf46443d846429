"""Mail that comes back to the portal, and the daily digest's record of what it sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .encrypted import EncryptedBytes, EncryptedText

INBOUND_KINDS = ("staff_reply", "resident_reply", "bounce", "auto_reply", "unmatched")


class InboundMail(Base):
    """One message received at the portal's inbound address, and what it was matched to."""

    __tablename__ = "inbound_mail"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('staff_reply', 'resident_reply', 'bounce', 'auto_reply', 'unmatched')",
            name="kind",
        ),
        Index("ix_inbound_mail_kind_resolved", "kind", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the Message-ID (or of the raw message without one): a message delivered
    # twice, by an MTA retry or a second fetch, is recorded once.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(EncryptedText, default="")
    subject: Mapped[str] = mapped_column(EncryptedText, default="")
    body_text: Mapped[str] = mapped_column(EncryptedText, default="")
    # Kept only for messages that matched nothing, so the coordinator can read them.
    raw: Mapped[bytes | None] = mapped_column(EncryptedBytes)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("help_request.id", ondelete="SET NULL")
    )
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )


class DigestRun(Base):
    """The daily digest of one town's inbox for one day: the primary key makes it once."""

    __tablename__ = "digest_run"

    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
