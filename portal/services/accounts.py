"""Running staff accounts: invitations, activation links, recovery codes, roles and sessions.

A colleague never gets a password from someone else: an administrator invites them, and a
one-time link (stored only as a hash, valid for :data:`ACTIVATION_HOURS`, used once) lets
them set a password and set up the second factor themselves. Resetting either sends a new
link that asks for exactly what was reset.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import RecoveryCode, StaffActivation, StaffSession, StaffUser, Town, utcnow
from . import staff
from .errors import (
    AccountExists,
    ActivationInvalid,
    InvalidCredentials,
    LastAdministrator,
    TownNeeded,
)
from .tokens import hash_token, new_token

ACTIVATION_HOURS = 72
RECOVERY_CODES = 10
# Letters and digits that cannot be mistaken for each other when read aloud or typed.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class Activation:
    """A freshly issued activation link: the account and the token for the URL (once)."""

    user: StaffUser
    token: str
    sets_password: bool
    sets_factor: bool


def all_accounts(session: Session) -> list[StaffUser]:
    """Every staff account, by name."""
    return list(
        session.scalars(
            select(StaffUser).order_by(func.lower(StaffUser.display_name), StaffUser.email)
        )
    )


def account(session: Session, staff_id: int) -> StaffUser | None:
    """The account with ``staff_id``, if any."""
    return session.get(StaffUser, staff_id)


def _issue(session: Session, user: StaffUser, sets_password: bool, sets_factor: bool) -> Activation:
    """Store a new activation link for ``user``; older open links of the account stop working.

    A link that sets up the factor comes with a fresh secret: whoever opened an older link
    (a forwarded email) does not hold the seed of the factor enrolled later.
    """
    now = utcnow()
    if sets_factor:
        user.totp_secret = pyotp.random_base32()
        user.totp_enabled = False
    session.execute(
        update(StaffActivation)
        .where(StaffActivation.staff_id == user.id, StaffActivation.used_at.is_(None))
        .values(used_at=now)
    )
    token = new_token()
    session.add(
        StaffActivation(
            token_hash=hash_token(token),
            staff_id=user.id,
            sets_password=sets_password,
            sets_factor=sets_factor,
            created_at=now,
            expires_at=now + timedelta(hours=ACTIVATION_HOURS),
        )
    )
    session.flush()
    return Activation(user, token, sets_password, sets_factor)


def _towns_for(role: str, towns: Town | Sequence[Town] | None) -> list[Town]:
    """The towns an account with ``role`` keeps: a caseworker's (at least one), else none.

    Raises :class:`TownNeeded` for a caseworker without a town.
    """
    if role != "caseworker":
        return []
    chosen = staff.town_list(towns)
    if not chosen:
        raise TownNeeded()
    return chosen


def invite(
    session: Session,
    email: str,
    role: str,
    towns: Town | Sequence[Town] | None,
    display_name: str = "",
) -> Activation:
    """Create an account that cannot sign in until its owner sets a password and a factor.

    Raises :class:`AccountExists` if the email is taken; the unique constraint also refuses
    two administrators inviting the same address at the same moment. Raises
    :class:`TownNeeded` for a caseworker without a town.
    """
    address = email.strip().lower()
    chosen = _towns_for(role, towns)
    if staff.account_by_email(session, address) is not None:
        raise AccountExists()
    user = StaffUser(
        email=address,
        display_name=display_name,
        role=role,
        towns=chosen,
        password_hash="",
        totp_secret=pyotp.random_base32(),
        totp_enabled=False,
    )
    try:
        with session.begin_nested():  # two administrators inviting one address at once
            session.add(user)
            session.flush()
    except IntegrityError:
        if staff.account_by_email(session, address) is None:
            raise  # another constraint, not the address: not the user's doing
        raise AccountExists() from None
    return _issue(session, user, sets_password=True, sets_factor=True)


def reset_password(session: Session, user: StaffUser) -> Activation:
    """Clear the password, end every session and issue a link to set a new one."""
    user.password_hash = ""
    staff.revoke_all_sessions(session, user)
    # A factor reset still open is kept in the new link, so the account never ends half set up.
    return _issue(session, user, sets_password=True, sets_factor=not user.totp_enabled)


def reset_factor(session: Session, user: StaffUser) -> Activation:
    """Drop the second factor and recovery codes, end every session, issue a link to set up anew."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = False
    user.last_totp_step = 0
    session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.staff_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    staff.revoke_all_sessions(session, user)
    return _issue(session, user, sets_password=not user.password_hash, sets_factor=True)


def resend_invitation(session: Session, user: StaffUser) -> Activation:
    """A new link asking for whatever the account still lacks (both for a fresh invitation)."""
    return _issue(
        session,
        user,
        sets_password=not user.password_hash,
        sets_factor=not user.totp_enabled,
    )


def open_activation(session: Session, token: str | None) -> StaffActivation:
    """The activation for ``token`` if it is still open; else :class:`ActivationInvalid`."""
    if not token:
        raise ActivationInvalid()
    found = session.scalar(
        select(StaffActivation).where(StaffActivation.token_hash == hash_token(token))
    )
    if found is None or found.used_at is not None or found.expires_at <= utcnow():
        raise ActivationInvalid()
    if not found.staff.active:
        raise ActivationInvalid()
    return found


def complete_activation(
    session: Session, activation: StaffActivation, password: str, code: str
) -> list[str]:
    """Set what the link asks for; returns new recovery codes when a factor was set up.

    The password is checked against the policy first (:class:`WeakPassword`), then the code
    (:class:`InvalidCredentials`); nothing is stored unless both pass. The link is claimed
    with a conditional update, so two tabs cannot both use it (:class:`ActivationInvalid`).
    """
    user = activation.staff
    if activation.sets_password:
        staff.check_password_policy(password, user.email)
    if activation.sets_factor:
        staff.verify_code(session, user, code)
    claimed = session.execute(
        update(StaffActivation)
        .where(StaffActivation.id == activation.id, StaffActivation.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ActivationInvalid()
    if activation.sets_password:
        user.password_hash = staff.hash_password(password)
    staff.clear_attempts(session, user)
    staff.revoke_all_sessions(session, user)
    return new_recovery_codes(session, user) if activation.sets_factor else []


def _recovery_hash(user: StaffUser, code: str) -> str:
    """The stored form of a recovery code: bound to the account, case and dashes ignored."""
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hash_token(f"{user.id}:{normal}")


def new_recovery_codes(session: Session, user: StaffUser) -> list[str]:
    """Replace the account's recovery codes with :data:`RECOVERY_CODES` new ones, shown once."""
    session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.staff_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        session.add(RecoveryCode(staff_id=user.id, code_hash=_recovery_hash(user, code)))
        codes.append(code)
    session.flush()
    return codes


def unused_recovery_codes(session: Session, user: StaffUser) -> int:
    """How many recovery codes the account has left."""
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.staff_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def looks_like_recovery_code(code: str) -> bool:
    """Whether the sign-in code field holds a recovery code rather than six digits."""
    return any(ch.isalpha() for ch in code)


def use_recovery_code(session: Session, user: StaffUser, code: str) -> None:
    """Spend one recovery code of ``user`` instead of a one-time code.

    Raises :class:`InvalidCredentials` (counted like a wrong code) if it is unknown or was
    used, and :class:`TooManyAttempts` while the account must wait. The attempt is counted
    first, atomically, as a one-time code is.
    """
    staff.claim_attempt(session, user)
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.staff_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(user, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidCredentials()
    staff.clear_attempts(session, user)


def _other_active_admins(session: Session, user: StaffUser) -> int:
    """Administrators besides ``user`` who can sign in: active, with password and factor.

    Every such row, ``user``'s included, is locked in id order on PostgreSQL while we decide,
    so two administrators demoting each other at the same moment are served one after the
    other, and the second sees that the first is no longer an administrator.
    """
    ids = session.scalars(
        select(StaffUser.id)
        .where(
            StaffUser.role == "admin",
            StaffUser.active.is_(True),
            StaffUser.password_hash != "",
            StaffUser.totp_enabled.is_(True),
        )
        .order_by(StaffUser.id)
        .with_for_update()
    ).all()
    return len([found for found in ids if found != user.id])


def _guard_last_admin(session: Session, user: StaffUser) -> None:
    if user.role == "admin" and user.active and _other_active_admins(session, user) == 0:
        raise LastAdministrator()


def change_role(
    session: Session, user: StaffUser, role: str, towns: Town | Sequence[Town] | None
) -> None:
    """Set role and towns; the last administrator stays one.

    Only caseworkers have towns, at least one (:class:`TownNeeded`); any other role clears them.
    """
    chosen = _towns_for(role, towns)
    if role != "admin":
        _guard_last_admin(session, user)
    user.role = role
    user.towns = chosen


def set_active(session: Session, user: StaffUser, active: bool) -> None:
    """Disable (ending every session at once) or enable an account."""
    if not active:
        _guard_last_admin(session, user)
        staff.revoke_all_sessions(session, user)
    user.active = active


def change_own_password(session: Session, user: StaffUser, current: str, new: str) -> None:
    """Change a password after checking the current one (:class:`InvalidCredentials`).

    The check counts like a sign-in attempt (:class:`TooManyAttempts` while the account
    must wait), so a forgotten open session cannot be used to guess the password.
    """
    staff.claim_attempt(session, user)
    if not staff.password_matches(user, current):
        raise InvalidCredentials()
    staff.forgive_attempt(session, user)
    staff.set_password(user, new)


def live_sessions(session: Session, user: StaffUser, idle_minutes: int) -> list[StaffSession]:
    """The account's signed-in sessions that have not ended, newest first."""
    cutoff = utcnow() - timedelta(minutes=idle_minutes)
    return list(
        session.scalars(
            select(StaffSession)
            .where(
                StaffSession.staff_id == user.id,
                StaffSession.revoked_at.is_(None),
                StaffSession.stage == "full",
                StaffSession.last_seen_at > cutoff,
            )
            .order_by(StaffSession.created_at.desc())
        )
    )


def end_session(session: Session, user: StaffUser, session_id: int) -> bool:
    """End one session of ``user``; ``False`` if it is not theirs or already over."""
    ended = session.execute(
        update(StaffSession)
        .where(
            StaffSession.id == session_id,
            StaffSession.staff_id == user.id,
            StaffSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return ended.rowcount == 1  # type: ignore[attr-defined]
