"""Emails waiting to be delivered, written in the same transaction as their cause."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .encrypted import BlindIndex, EncryptedBytes, EncryptedText, index_contacts


class OutboxMessage(Base):
    """One composed email; the delivery worker sends it and records the outcome."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'bounced')", name="status"
        ),
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Addresses, subject and bodies are stored encrypted; the bodies and the attachment are
    # dropped once the message is delivered (they may hold a private link).
    recipient: Mapped[str] = mapped_column(EncryptedText)
    # Keyed hash of the recipient, so a town inbox's messages are found without decrypting.
    recipient_index: Mapped[str] = mapped_column(
        BlindIndex("email"), default="", server_default="", index=True
    )
    reply_to: Mapped[str] = mapped_column(EncryptedText, default="")
    subject: Mapped[str] = mapped_column(EncryptedText)
    body_text: Mapped[str] = mapped_column(EncryptedText)
    body_html: Mapped[str] = mapped_column(EncryptedText)
    locale: Mapped[str] = mapped_column(String(5), default="de")
    # One optional attachment (an appointment's .ics), stored as rendered so nothing is lost.
    attachment_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    attachment_type: Mapped[str] = mapped_column(String(100), default="", server_default="")
    attachment_data: Mapped[bytes | None] = mapped_column(EncryptedBytes)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("help_request.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # A delivery report that came back later (RFC 3464 or a common non-standard bounce).
    bounced_at: Mapped[datetime | None]
    bounce_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The whole message as an S/MIME enveloped-data entity, for inboxes with a certificate;
    # when set, it is sent instead of the text and HTML parts.
    encrypted_mime: Mapped[bytes | None] = mapped_column(EncryptedBytes)
    # When the body, attachment and encrypted copy of a sent email were removed: the row
    # keeps only its metadata (recipient, subject, times, delivery result).
    cleared_at: Mapped[datetime | None]


index_contacts(OutboxMessage, {"recipient_index": "recipient"})
