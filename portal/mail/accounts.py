"""Emails about a colleague's own staff account: activation links and security notices."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from ..config import Settings, settings_of
from ..links import external_url
from ..models import StaffUser
from ..services import outbox
from ..services.accounts import ACTIVATION_HOURS, Activation
from . import STAFF_LOCALE, _compose

# What changed, for the notice: a password, the second factor, the recovery codes.
CHANGES = ("password", "factor", "recovery_codes")


def _settings() -> Settings:
    settings = settings_of(current_app)
    return settings


def activation_url(token: str) -> str:
    """The one-time link that opens the activation page."""
    return external_url("staff.activate_link", lang=STAFF_LOCALE, token=token)


def queue_activation(session: Session, activation: Activation, invited: bool) -> None:
    """Send the one-time link to the account's address, in German."""
    outbox.enqueue(
        session,
        _compose(
            "staff_activation",
            "staff_activation",
            activation.user.email,
            STAFF_LOCALE,
            {},
            user=activation.user,
            invited=invited,
            sets_password=activation.sets_password,
            sets_factor=activation.sets_factor,
            link=activation_url(activation.token),
            hours=ACTIVATION_HOURS,
        ),
    )


def queue_account_changed(session: Session, user: StaffUser, changes: list[str]) -> None:
    """Tell the account's owner that its password, factor or recovery codes changed."""
    assert changes and set(changes) <= set(CHANGES)
    outbox.enqueue(
        session,
        _compose(
            "staff_account_changed",
            "staff_account_changed",
            user.email,
            STAFF_LOCALE,
            {},
            user=user,
            changes=changes,
            phone=_settings().provider_phone,
        ),
    )
