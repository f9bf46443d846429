"""The security event log: sign-ins, enrolment, sign-outs, refused forms and rate limits.

Entries name a staff account by its id at most. What someone typed as the account at a
failed sign-in is kept only as a keyed hash (so repeated guesses at one name can be seen
without the name), and the address only as its network.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import SecurityEvent, utcnow

# Every kind of event the portal records; the staff page names each.
KINDS = (
    "signin",
    "signin_recovery",
    "signin_failed",
    "signin_wait",
    "code_failed",
    "activation",
    "password_change",
    "password_reset",
    "factor_reset",
    "recovery_codes",
    "signout",
    "session_end",
    "session_expired",
    "csrf_failed",
    "rate_limited",
)


def network_of(address: str) -> str:
    """The network an address belongs to (IPv4 /24, IPv6 /48), never the address itself."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def subject_hash(key: bytes, typed: str) -> str:
    """A keyed hash of what was typed as the account: the same name gives the same value."""
    if not typed.strip():
        return ""
    digest = hmac.new(key, typed.strip().lower().encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def record(
    session: Session,
    kind: str,
    staff_id: int | None = None,
    subject: str = "",
    address: str = "",
    detail: str = "",
    now: datetime | None = None,
) -> SecurityEvent:
    """Add one event in the caller's transaction; ``subject`` is already a keyed hash."""
    if kind not in KINDS:
        raise ValueError(f"unknown security event {kind!r}")
    event = SecurityEvent(
        at=now or utcnow(),
        kind=kind,
        staff_id=staff_id,
        subject=subject[:32],
        network=network_of(address),
        detail=detail[:100],
    )
    session.add(event)
    return event


def latest(
    session: Session, kind: str = "", staff_id: int | None = None, limit: int = 200
) -> list[SecurityEvent]:
    """The most recent events, optionally of one kind or one account, newest first."""
    query = select(SecurityEvent).order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    if staff_id is not None:
        query = query.where(SecurityEvent.staff_id == staff_id)
    return list(session.scalars(query.limit(limit)))


def purge(session: Session, now: datetime, days: int) -> int:
    """Delete events older than ``days``; returns how many went."""
    gone = session.execute(
        delete(SecurityEvent).where(SecurityEvent.at <= now - timedelta(days=days))
    )
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]
