"""Staff accounts: passwords, one-time codes, server-side sessions and sign-in limits."""

from __future__ import annotations

import contextlib
import gzip
import math
import time
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, null, or_, select, update
from sqlalchemy.orm import Session

from ..models import StaffSession, StaffUser, Town, utcnow
from . import security_log
from .errors import InvalidCredentials, TooManyAttempts, WeakPassword
from .tokens import hash_token, new_token

MIN_PASSWORD = 12
MAX_PASSWORD = 128
# Failed sign-ins an account may have before each further attempt waits (see wait_after).
FREE_ATTEMPTS = 5
MAX_WAIT = timedelta(minutes=15)
TOTP_ISSUER = "Soziales Duo"
# The accounts `demo load` creates: demo-…@example.org (example.org is reserved, RFC 2606).
DEMO_PREFIX = "demo-"
DEMO_DOMAIN = "@example.org"

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# A hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """Common passwords (Django's list of 20,000), lower-cased."""
    data = resources.files("portal").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def normalise_password(password: str) -> str:
    """A password as it is checked, hashed and compared: trimmed, Unicode NFC.

    The forms trim and normalise every field; doing the same here, at creation and at
    sign-in alike, means a password set from the command line or a test is the one typed.
    """
    return unicodedata.normalize("NFC", password.strip())


def normalise_email(email: str) -> str:
    """An account's email address as stored and looked up."""
    return email.strip().lower()


def check_password_policy(password: str, email: str = "") -> None:
    """Refuse short, overlong, common or guessable passwords; no composition rules."""
    password = normalise_password(password)
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
    """An Argon2id hash of ``password`` (normalised as at sign-in)."""
    return _hasher.hash(normalise_password(password))


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
        email=normalise_email(email),
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


def wait_after(failures: int) -> timedelta:
    """How long an account waits before its next attempt after ``failures`` failed ones.

    The first :data:`FREE_ATTEMPTS` cost nothing; then the wait doubles from two seconds up
    to :data:`MAX_WAIT`. The owner is never locked out for good, and a guesser gets at most a
    handful of tries an hour.
    """
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    doublings = min(failures - FREE_ATTEMPTS + 1, 30)  # 2**30 s is far beyond the cap
    return min(timedelta(seconds=2**doublings), MAX_WAIT)


def _wait_until(failures: Any, now: datetime) -> Any:
    """A SQL expression: the end of the wait after ``failures`` (a column expression).

    Written as a CASE over the few counts before the cap, so both SQLite and PostgreSQL
    compute it in the same statement that counts the attempt.
    """
    capped = FREE_ATTEMPTS + int(math.log2(MAX_WAIT.total_seconds()))
    whens = [(failures == n, now + wait_after(n)) for n in range(FREE_ATTEMPTS, capped)]
    return case((failures < FREE_ATTEMPTS, null()), *whens, else_=now + MAX_WAIT)


def claim_attempt(session: Session, user: StaffUser, now: datetime | None = None) -> None:
    """Count one attempt before checking it, atomically; :class:`TooManyAttempts` while waiting.

    One conditional UPDATE both checks the wait and counts, so parallel attempts queue on
    the row and each sees the count of the ones before it. A right answer is forgiven with
    :func:`forgive_attempt` or :func:`clear_attempts`.
    """
    now = now or utcnow()
    claimed = session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == user.id,
            or_(StaffUser.signin_wait_until.is_(None), StaffUser.signin_wait_until <= now),
        )
        .values(
            failed_signins=StaffUser.failed_signins + 1,
            signin_wait_until=_wait_until(StaffUser.failed_signins + 1, now),
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["failed_signins", "signin_wait_until"])
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise TooManyAttempts()


def forgive_attempt(session: Session, user: StaffUser, now: datetime | None = None) -> None:
    """Take back the attempt counted by :func:`claim_attempt`: it was right (the password).

    The count goes back by one and no wait is left: the claim only succeeded because no
    wait was running, so the owner who typed the right password goes on to the code at once.
    """
    session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id, StaffUser.failed_signins > 0)
        .values(failed_signins=StaffUser.failed_signins - 1, signin_wait_until=None)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["failed_signins", "signin_wait_until"])


def clear_attempts(session: Session, user: StaffUser) -> None:
    """After a complete sign-in (or a new password or factor): no failures, no wait."""
    session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .values(failed_signins=0, signin_wait_until=None)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["failed_signins", "signin_wait_until"])


def account_by_email(session: Session, email: str) -> StaffUser | None:
    """The account registered under ``email``, if any."""
    return session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def shown_names(session: Session, staff_ids: set[int]) -> dict[int, str]:
    """How colleagues see each of these accounts, by id (deleted accounts are missing)."""
    if not staff_ids:
        return {}
    found = session.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids)))
    return {user.id: user.shown_name for user in found}


def is_demo_account(email: str) -> bool:
    """Whether ``email`` is one of the accounts ``demo load`` creates (with a known password)."""
    address = normalise_email(email)
    return address.startswith(DEMO_PREFIX) and address.endswith(DEMO_DOMAIN)


def verify_password(
    session: Session, email: str, password: str, allow_demo: bool = False
) -> StaffUser:
    """The active account for ``email`` if ``password`` is right.

    Demo accounts, whose password is printed in the README, only sign in with
    ``allow_demo`` (debug mode); otherwise they are refused like an unknown account.

    Raises :class:`InvalidCredentials` for an unknown account or a wrong password and
    :class:`TooManyAttempts` while the account must wait, each after one Argon2 check, so
    the time does not tell whether the account exists; the sign-in page answers all of them
    with the same sentence. The attempt is counted atomically before the check; the caller
    commits.
    """
    password = normalise_password(password)
    user = account_by_email(session, email)
    demo_refused = user is not None and not allow_demo and is_demo_account(user.email)
    if user is None or not user.active or not user.password_hash or demo_refused:
        _dummy_verify(password)
        raise InvalidCredentials()
    try:
        claim_attempt(session, user)
    except TooManyAttempts:
        _dummy_verify(password)
        raise
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials() from None
    forgive_attempt(session, user)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _dummy_verify(password: str) -> None:
    """Spend the time of one password check on nothing, so a refusal takes as long."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def password_matches(user: StaffUser, password: str) -> bool:
    """Whether ``password`` is the account's current password (no failure is counted)."""
    if not user.password_hash:
        return False
    try:
        return bool(_hasher.verify(user.password_hash, normalise_password(password)))
    except (VerificationError, InvalidHashError):
        return False


def totp_uri(user: StaffUser) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the enrolment QR code."""
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(
        name=user.email, issuer_name=TOTP_ISSUER
    )


def ascii_digits(code: str) -> str:
    """The decimal digits of ``code`` in ASCII: "١٢٣ ٤٥٦" (Arabic-Indic, as an Arabic keyboard
    types them) becomes "123456"; spaces, dashes and "²" are dropped."""
    return "".join(str(unicodedata.decimal(ch)) for ch in code if ch.isdecimal())


def verify_code(session: Session, user: StaffUser, code: str, at: float | None = None) -> None:
    """Accept a one-time code once, even when the same code arrives in parallel.

    The attempt is counted first (:func:`claim_attempt`); a matching code is then claimed by
    a conditional UPDATE that only succeeds while its time step is newer than the last one
    used, so of two requests with one code exactly one wins.
    """
    claim_attempt(session, user)
    code = ascii_digits(code)
    totp = pyotp.TOTP(user.totp_secret or "")
    moment = time.time() if at is None else at
    current_step = int(moment // totp.interval)
    for step in (current_step, current_step - 1, current_step + 1):
        if len(code) == 6 and totp.at(step * totp.interval) == code:
            if not _claim_step(session, user, step):
                break
            user.totp_enabled = True
            clear_attempts(session, user)
            return
    raise InvalidCredentials()


def _claim_step(session: Session, user: StaffUser, step: int) -> bool:
    """Record ``step`` as the last used one if it is newer; whether this call did so."""
    claimed = session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id, StaffUser.last_totp_step < step)
        .values(last_totp_step=step)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["last_totp_step"])
    return claimed.rowcount == 1  # type: ignore[attr-defined]


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
    idle = now - found.last_seen_at > timedelta(minutes=idle_minutes)
    if idle or now - found.created_at > timedelta(hours=absolute_hours):
        found.revoked_at = now
        security_log.record(
            session, "session_expired", found.staff_id, detail="idle" if idle else "absolute"
        )
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
