"""Staff accounts, their server-side sessions and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .encrypted import EncryptedText
from .town import Town

ROLES = ("caseworker", "coordinator", "editor", "admin")

# The towns a caseworker works for: usually one, more while covering a colleague's town.
staff_town = Table(
    "staff_town",
    Base.metadata,
    Column("staff_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    Column("town_id", ForeignKey("town.id"), primary_key=True),
)


class StaffUser(Base):
    """A member of staff who signs in with a password and a one-time code."""

    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint("role IN ('caseworker', 'coordinator', 'editor', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20), default="caseworker")
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    last_totp_step: Mapped[int] = mapped_column(default=0)
    # Failed sign-in steps since the last complete sign-in, counted atomically in SQL.
    failed_signins: Mapped[int] = mapped_column(default=0)
    # No attempt is checked before this moment (growing delays after repeated failures).
    signin_wait_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signin_at: Mapped[datetime | None]

    towns: Mapped[list[Town]] = relationship(
        secondary=staff_town, lazy="selectin", order_by=Town.id
    )

    @property
    def ready(self) -> bool:
        """Whether the account has both a password and a second factor, so it can sign in."""
        return bool(self.password_hash) and self.totp_enabled

    @property
    def shown_name(self) -> str:
        """How colleagues see this person on pages: the display name, else the email."""
        return self.display_name or self.email

    def may_read_town(self, town_id: int) -> bool:
        """Whether this person may see requests routed to ``town_id``."""
        if self.role == "coordinator":
            return True
        return self.role == "caseworker" and town_id in self.town_ids

    @property
    def town_ids(self) -> set[int]:
        """The ids of the towns this person works for (only caseworkers have any)."""
        return {town.id for town in self.towns}

    @property
    def town_names(self) -> str:
        """The towns this person works for, joined with commas ("" if none)."""
        return ", ".join(town.name for town in self.towns)


class StaffSession(Base):
    """A signed-in browser; revoked at sign-out, expired when idle or too old."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(10), default="password")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    # The browser's address at sign-in, shown to the colleague in their list of sessions.
    address: Mapped[str] = mapped_column(String(45), default="", server_default="")

    staff: Mapped[StaffUser] = relationship(lazy="joined")


class StaffActivation(Base):
    """A one-time link that lets a colleague set a password and/or a second factor.

    Only the hash of the token is stored; a link expires, works once, and a newer link for
    the same account replaces it.
    """

    __tablename__ = "staff_activation"
    __table_args__ = (Index("ix_staff_activation_staff", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    sets_password: Mapped[bool] = mapped_column(default=True)
    sets_factor: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    staff: Mapped[StaffUser] = relationship(lazy="joined")


class RecoveryCode(Base):
    """A recovery code, stored hashed, usable once instead of a one-time code."""

    __tablename__ = "staff_recovery_code"
    __table_args__ = (Index("ix_staff_recovery_code_staff", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did what to which request, when and from where; never the request's content.

    The table is append-only: database triggers refuse every change and refuse deleting an
    entry while its request still holds personal data (see migration 0004).
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_request", "request_id"),
        Index("ix_audit_entry_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # No foreign key: the entry keeps naming its author after the account is deleted.
    staff_id: Mapped[int | None]
    # The author's name (or email) when the entry was written, for when the account is gone.
    staff_label: Mapped[str] = mapped_column(String(254), default="", server_default="")
    action: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("help_request.id", ondelete="SET NULL")
    )
    # The request's reference, kept when the request itself is gone.
    reference: Mapped[str] = mapped_column(String(16), default="", server_default="")
    # A code or short fact about the action (new status, outcome); never content.
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")
    address: Mapped[str] = mapped_column(String(45), default="", server_default="")

    staff: Mapped[StaffUser | None] = relationship(
        primaryjoin="foreign(AuditEntry.staff_id) == StaffUser.id", lazy="joined", viewonly=True
    )

    @property
    def author(self) -> str:
        """Who wrote the entry: the account's name now, else the name it had then."""
        return self.staff.shown_name if self.staff is not None else self.staff_label


class SecurityEvent(Base):
    """A sign-in, sign-out, enrolment, refused form or rate limit: the security event log.

    Nothing personal beyond the staff account's id: an email typed at a failed sign-in is
    kept only as a keyed hash, the address only as its network (IPv4 /24, IPv6 /48).
    """

    __tablename__ = "security_event"
    __table_args__ = (Index("ix_security_event_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    # The account concerned, without a foreign key: the log outlives deleted accounts.
    staff_id: Mapped[int | None]
    # A keyed hash of what was typed as the account (unknown accounts), else "".
    subject: Mapped[str] = mapped_column(String(32), default="", server_default="")
    network: Mapped[str] = mapped_column(String(49), default="", server_default="")
    # A code such as the endpoint refused; never content.
    detail: Mapped[str] = mapped_column(String(100), default="", server_default="")
