"""Receipts: proof that a request reached the Soziales Duo, kept longer than the request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .encrypted import EncryptedText


class Receipt(Base):
    """What a printed receipt can be checked against: the reference, when it came in, where.

    No foreign key to the request: the receipt stays after the request is deleted (a benefit
    granted later may date back to the day someone first asked), until ``expires_at``. It holds
    nothing about the person. The verification code is found by its keyed hash
    (``code_hash``); the code itself is kept encrypted only so the confirmation and status
    pages can show it again.
    """

    __tablename__ = "receipt"
    __table_args__ = (Index("ix_receipt_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code: Mapped[str] = mapped_column(EncryptedText)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    received_at: Mapped[datetime]
    town_slug: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime]
