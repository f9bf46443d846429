"""Settings: retired names warn, unknown ones stop the start, one accessor reads them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portal import create_app
from portal.config import ConfigError, load_settings


def test_an_old_instance_that_sets_a_retired_setting_starts_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "portal.cfg").write_text(
        "DEBUG = True\nPROVIDER_STREET = 'Paderborner Straße 5'\nPROVIDER_PHONE = '05246 961-1'\n",
        "utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="portal"):
        settings = load_settings(tmp_path, environ={"PORTAL_SUPERVISORY_AUTHORITY": "Kreis"})
    assert settings.provider_phone == "05246 961-1"
    assert not hasattr(settings, "provider_street")
    warnings = [record.getMessage() for record in caplog.records]
    assert any("PORTAL_PROVIDER_STREET is no longer read" in text for text in warnings)
    assert any("PORTAL_SUPERVISORY_AUTHORITY is no longer read" in text for text in warnings)
    assert not any("PROVIDER_PHONE" in text for text in warnings)


def test_an_unknown_setting_in_the_instance_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "portal.cfg").write_text("DEBUG = True\nFAVOURITE_COLOUR = 'blau'\n", "utf-8")
    with pytest.raises(
        ConfigError, match=r"FAVOURITE_COLOUR in .*portal.cfg is not a setting"
    ) as error:
        load_settings(tmp_path, environ={})
    assert "Did you mean" not in str(error.value)


def test_a_misspelt_setting_is_named_with_the_one_it_may_mean(tmp_path: Path) -> None:
    (tmp_path / "portal.cfg").write_text("DEBUG = True\nMAIL_SEVER = 'smtp.example.org'\n", "utf-8")
    with pytest.raises(ConfigError, match=r"MAIL_SEVER .* Did you mean MAIL_SERVER\?"):
        load_settings(tmp_path, environ={})


def test_a_misspelt_environment_variable_stops_the_start(tmp_path: Path) -> None:
    environ = {"PORTAL_DEBUG": "1", "PORTAL_RESPONSE_DAY": "2"}
    with pytest.raises(
        ConfigError,
        match=r"PORTAL_RESPONSE_DAY in the environment is not a setting of the portal\. "
        r"Did you mean PORTAL_RESPONSE_DAYS\?",
    ):
        load_settings(tmp_path, environ=environ)


def test_the_instance_path_and_the_test_suites_variables_are_no_settings_but_allowed(
    tmp_path: Path,
) -> None:
    environ = {
        "PORTAL_DEBUG": "1",
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "PORTAL_TEST_DATABASE_URL": "sqlite://",
    }
    assert load_settings(tmp_path, environ=environ).debug


def test_an_unknown_override_stops_app_creation(app_config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"DRAFT_HOUR in the app's configuration .* DRAFT_HOURS"):
        create_app({**app_config, "draft_hour": 24})


def test_flasks_own_keys_in_the_instance_file_are_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "portal.cfg").write_text("DEBUG = True\nSERVER_NAME = 'portal.test'\n", "utf-8")
    with caplog.at_level(logging.WARNING, logger="portal"):
        load_settings(tmp_path, environ={}, framework_keys=Flask.default_config)
    assert any("SERVER_NAME" in record.getMessage() for record in caplog.records)


def test_the_settings_are_read_through_one_accessor() -> None:
    root = Path(__file__).resolve().parents[2]
    spelled = [
        str(path.relative_to(root))
        for folder in ("portal", "scripts", "tests")
        for path in (root / folder).rglob("*.py")
        if '"portal.settings"' in path.read_text("utf-8") and path.name != Path(__file__).name
    ]
    assert spelled == ["portal/config.py"]


def test_rate_limits_cannot_be_switched_off_outside_the_test_suite(
    app_config: dict[str, Any],
) -> None:
    with pytest.raises(ConfigError, match=r"PORTAL_RATELIMIT_DISABLED .* test suite only"):
        create_app({**app_config, "testing": False, "ratelimit_disabled": True})
