"""Settings an older portal read: an instance that still sets one starts and is told."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from portal.config import load_settings


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
    assert "provider_street" not in settings.extra
    warnings = [record.getMessage() for record in caplog.records]
    assert any("PORTAL_PROVIDER_STREET is no longer read" in text for text in warnings)
    assert any("PORTAL_SUPERVISORY_AUTHORITY is no longer read" in text for text in warnings)
    assert not any("PROVIDER_PHONE" in text for text in warnings)
