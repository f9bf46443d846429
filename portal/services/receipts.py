"""Receipts a resident can keep, and checking one: "this reference was received on …".

A receipt holds the request's reference, when it was received and the town's slug, nothing
about the person, and lives on after the request is deleted until its own expiry. Each has a
short verification code from an alphabet without look-alikes (no 0/O, 1/I/L), printed in two
groups (``K7QM-4TXR``). The database finds a code by its HMAC-SHA256 under the blind-index
key; the code itself is stored encrypted, so the confirmation and status pages can show it
again, and never in plaintext.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..crypto import ring_of
from ..models import HelpRequest, Receipt, Town, utcnow

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
GROUP = 4


def new_code() -> str:
    """A fresh random code (about 40 bits), without separators."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(text: str) -> str:
    """A typed or scanned code in its stored form: capitals, no spaces or hyphens;
    "" when it cannot be a code at all."""
    code = "".join(text.split()).replace("-", "").replace("‐", "").replace("–", "").upper()
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return ""
    return code


def grouped(code: str) -> str:
    """The code as it is printed and read aloud: ``K7QM-4TXR``."""
    return "-".join(code[start : start + GROUP] for start in range(0, len(code), GROUP))


def code_hash(session: Session, code: str) -> str:
    """The keyed hash a code is stored and found by (the blind-index key, its own domain)."""
    key = ring_of(session.get_bind().dialect).index_key
    return hmac.new(key, b"receipt\x00" + code.encode("ascii"), hashlib.sha256).hexdigest()


def receipt_of(session: Session, reference: str) -> Receipt | None:
    """The receipt of the request with ``reference``, if one was issued."""
    return session.scalar(select(Receipt).where(Receipt.reference == reference))


def issue(session: Session, request: HelpRequest, days: int) -> Receipt:
    """The request's receipt, made now if it has none yet (in the caller's transaction).

    A new request gets it in the transaction that stores the request; one sent before
    receipts existed gets it the first time its receipt page is opened. It expires ``days``
    after the request was received.
    """
    existing = receipt_of(session, request.reference)
    if existing is not None:
        return existing
    while True:
        code = new_code()
        digest = code_hash(session, code)
        if session.scalar(select(Receipt.id).where(Receipt.code_hash == digest)) is None:
            break
    receipt = Receipt(
        code_hash=digest,
        code=code,
        reference=request.reference,
        received_at=request.received_at,
        town_slug=request.town.slug,
        expires_at=request.received_at + timedelta(days=days),
    )
    try:
        with session.begin_nested():
            session.add(receipt)
            session.flush()
    except IntegrityError:
        # Two pages opened at once: the other one made it; both show the same code.
        winner = receipt_of(session, request.reference)
        if winner is None:
            raise
        return winner
    return receipt


def verify(session: Session, typed: str, now: datetime | None = None) -> Receipt | None:
    """The unexpired receipt with this code, or ``None``; nothing tells why not.

    The lookup goes by the code's keyed hash, and the stored hash is compared again in
    constant time, so neither the database nor the timing reveals a near miss.
    """
    code = normalise(typed)
    digest = code_hash(session, code or "-")
    found = session.scalar(select(Receipt).where(Receipt.code_hash == digest)) if code else None
    if found is None or not hmac.compare_digest(found.code_hash, digest):
        return None
    if found.expires_at <= (now or utcnow()):
        return None
    return found


def town_name(session: Session, receipt: Receipt) -> str:
    """The name of the town the request went to (its slug if the town is gone)."""
    name = session.scalar(select(Town.name).where(Town.slug == receipt.town_slug))
    return name or receipt.town_slug


def purge_expired(session: Session, now: datetime) -> int:
    """Delete receipts past their expiry; a printed one no longer verifies."""
    result = session.execute(delete(Receipt).where(Receipt.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
