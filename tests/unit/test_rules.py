"""Rules that need no web request: working days, references, passwords, codes, config."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from portal.config import ConfigError, load_settings
from portal.forms.base import normalise_email, normalise_phone
from portal.services import staff
from portal.services.errors import WeakPassword
from portal.services.references import format_reference
from portal.services.requests import respond_by
from portal.services.workdays import add_working_days


def test_working_days_skip_weekends_and_nrw_holidays() -> None:
    assert add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 24)
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert add_working_days(date(2026, 6, 3), 1) == date(2026, 6, 5)  # Fronleichnam (NRW) on 4 June
    assert add_working_days(date(2026, 11, 27), 3) == date(2026, 12, 2)


def test_the_response_promise_counts_from_the_day_in_berlin() -> None:
    late_friday = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)  # already Saturday in Berlin
    assert respond_by(late_friday, "normal", 3, 1) == date(2026, 12, 2)
    assert respond_by(late_friday, "urgent", 3, 1) == date(2026, 11, 30)


def test_references_have_the_year_and_five_digits() -> None:
    assert format_reference(2026, 42) == "SD-2026-00042"


@pytest.mark.parametrize(
    "password", ["short", "password1234", "aaaaaaaaaaaaaaa", "sozialesduo2026!"]
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        staff.check_password_policy(password, "anna@example.org")


def test_a_long_passphrase_is_accepted_without_composition_rules() -> None:
    staff.check_password_policy("meine katze heisst minka und mag regen", "anna@example.org")


def test_a_missing_secret_key_outside_debug_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        load_settings(tmp_path, environ={})
    assert load_settings(tmp_path, environ={"PORTAL_DEBUG": "1"}).debug


def test_settings_come_from_the_environment_over_the_instance_file(tmp_path: Path) -> None:
    (tmp_path / "portal.cfg").write_text(
        "SECRET_KEY = 'x' * 40\nRESPONSE_DAYS = 5\nINBOX_VERL = 'a@example.org'\n"
    )
    settings = load_settings(tmp_path, environ={"PORTAL_RESPONSE_DAYS": "4"})
    assert settings.response_days == 4 and settings.inbox_verl == "a@example.org"


def test_phone_numbers_and_emails_are_normalised() -> None:
    assert normalise_phone("05246 961-0") == "+49 5246 9610"
    assert normalise_phone("+90 532 123 45 67") == "+90 532 123 45 67"
    assert normalise_phone("12") is None
    assert normalise_email("Name@Example.DE") == "Name@example.de"
    assert normalise_email("a@b.de\r\nBcc: x@y.de") is None
