"""Staff accounts: passwords, one-time codes, server-side sessions and sign-in limits."""

from __future__ import annotations

import contextlib
import gzip
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import StaffSession, StaffUser, Town, utcnow
from .errors import InvalidCredentials, TooManyAttempts, WeakPassword
from .tokens import hash_token, new_token

MIN_PASSWORD = 12
MAX_PASSWORD = 128
MAX_FAILED_PER_HOUR = 100
TOTP_ISSUER = "Soziales Duo"

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# A hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """Common passwords (Django's list of 20,000), lower-cased."""
    data = resources.files("portal").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def check_password_policy(password: str, email: str = "") -> None:
    """Refuse short, overlong, common or guessable passwords; no composition rules."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword("short")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword("long")
    lowered = password.lower()
    local_part = email.split("@")[0].lower()
    if (
        lowered in _common_passwords()
        or len(set(lowered)) <= 3
        or (len(local_part) >= 4 and local_part in lowered)
        or "sozialesduo" in lowered.replace(" ", "")
    ):
        raise WeakPassword("common")


def town_list(town: Town | Sequence[Town] | None) -> list[Town]:
    """One town, several or none as a list without repeats, in id order."""
    if town is None:
        return []
    if isinstance(town, Town):
        return [town]
    return sorted({found.id: found for found in town}.values(), key=lambda found: found.id)


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return _hasher.hash(password)


def create_staff(
    session: Session,
    email: str,
    password: str,
    role: str,
    town: Town | Sequence[Town] | None,
    display_name: str = "",
) -> StaffUser:
    """Create a fully set-up account with a password and a second factor (demo and tests).

    Colleagues are invited with :func:`portal.services.accounts.invite` instead: they set
    both themselves through a one-time link. The TOTP secret is returned on the account.
    ``town`` is one town, several or ``None``.
    """
    check_password_policy(password, email)
    user = StaffUser(
        email=email.strip().lower(),
        display_name=display_name,
        role=role,
        towns=town_list(town),
        password_hash=hash_password(password),
        totp_secret=pyotp.random_base32(),
        totp_enabled=True,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    """Replace a staff member's password after checking the policy."""
    check_password_policy(password, user.email)
    user.password_hash = hash_password(password)


def _note_failure(user: StaffUser, now: datetime) -> None:
    if user.failed_window_start is None or now - user.failed_window_start > timedelta(hours=1):
        user.failed_window_start = now
        user.failed_signins = 0
    user.failed_signins += 1


def _check_limit(user: StaffUser, now: datetime) -> None:
    if (
        user.failed_window_start is not None
        and now - user.failed_window_start <= timedelta(hours=1)
        and user.failed_signins >= MAX_FAILED_PER_HOUR
    ):
        raise TooManyAttempts()


def check_limit(user: StaffUser) -> None:
    """Refuse (:class:`TooManyAttempts`) while the account has too many recent failures."""
    _check_limit(user, utcnow())


def note_failure(user: StaffUser) -> None:
    """Count one failed attempt against the account; the caller commits."""
    _note_failure(user, utcnow())


def account_by_email(session: Session, email: str) -> StaffUser | None:
    """The account registered under ``email``, if any."""
    return session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))


def verify_password(session: Session, email: str, password: str) -> StaffUser:
    """The active account for ``email`` if ``password`` is right.

    Raises :class:`InvalidCredentials` (also for unknown emails, after the same work) or
    :class:`TooManyAttempts`. A failure is counted against the account; the caller commits.
    """
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None or not user.active or not user.password_hash:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        raise InvalidCredentials()
    now = utcnow()
    _check_limit(user, now)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        _note_failure(user, now)
        raise InvalidCredentials() from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def password_matches(user: StaffUser, password: str) -> bool:
    """Whether ``password`` is the account's current password (no failure is counted)."""
    if not user.password_hash:
        return False
    try:
        return bool(_hasher.verify(user.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def totp_uri(user: StaffUser) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the enrolment QR code."""
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(
        name=user.email, issuer_name=TOTP_ISSUER
    )


def verify_code(user: StaffUser, code: str, at: float | None = None) -> None:
    """Accept a one-time code once: a code (or an older one) that was used is refused."""
    now = utcnow()
    _check_limit(user, now)
    code = "".join(ch for ch in code if ch.isdigit())
    totp = pyotp.TOTP(user.totp_secret or "")
    moment = time.time() if at is None else at
    current_step = int(moment // totp.interval)
    for step in (current_step, current_step - 1, current_step + 1):
        if step > user.last_totp_step and len(code) == 6 and totp.at(step * totp.interval) == code:
            user.last_totp_step = step
            user.totp_enabled = True
            user.failed_signins = 0
            return
    _note_failure(user, now)
    raise InvalidCredentials()


def open_session(session: Session, user: StaffUser, address: str = "") -> str:
    """Start a server-side session after the password; returns the cookie token."""
    token = new_token()
    session.add(
        StaffSession(
            token_hash=hash_token(token), staff=user, stage="password", address=address[:45]
        )
    )
    session.flush()
    return token


def upgrade_session(staff_session: StaffSession) -> str:
    """After the one-time code: mark the session complete and hand out a fresh token."""
    token = new_token()
    staff_session.token_hash = hash_token(token)
    staff_session.stage = "full"
    staff_session.last_seen_at = utcnow()
    staff_session.staff.last_signin_at = staff_session.last_seen_at
    return token


def live_session(
    session: Session, token: str | None, idle_minutes: int, absolute_hours: int
) -> StaffSession | None:
    """The session for ``token`` if it is neither revoked nor idle nor too old; touches it."""
    if not token:
        return None
    found = session.scalar(select(StaffSession).where(StaffSession.token_hash == hash_token(token)))
    if (
        found is None
        or found.revoked_at is not None
        or not found.staff.active
        or not found.staff.ready
    ):
        return None
    now = utcnow()
    if now - found.last_seen_at > timedelta(minutes=idle_minutes) or (
        now - found.created_at > timedelta(hours=absolute_hours)
    ):
        found.revoked_at = now
        return None
    found.last_seen_at = now
    return found


def revoke_session(staff_session: StaffSession) -> None:
    """End a session: its cookie no longer works, even if replayed."""
    staff_session.revoked_at = utcnow()


def revoke_all_sessions(
    session: Session, user: StaffUser, keep: StaffSession | None = None
) -> None:
    """End every session of ``user`` (after a password change, say), but ``keep``."""
    query = update(StaffSession).where(
        StaffSession.staff_id == user.id, StaffSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(StaffSession.id != keep.id)
    session.execute(query.values(revoked_at=utcnow()))
