"""Debug mode stays on a developer's machine: no debugger console, never on a public address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portal import migrate
from portal.config import ConfigError, load_settings
from portal.db import make_engine
from portal.tools import devserver
from tests.conftest import free_port


def test_debug_mode_with_an_https_public_address_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PORTAL_DEBUG"):
        load_settings(
            tmp_path,
            environ={"PORTAL_DEBUG": "1", "PORTAL_PUBLIC_URL": "https://portal.example.org"},
        )
    assert load_settings(
        tmp_path, environ={"PORTAL_DEBUG": "1", "PORTAL_PUBLIC_URL": "http://127.0.0.1:5000"}
    ).debug


def test_make_run_serves_without_the_werkzeug_debugger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PORTAL_DEBUG", "1")
    monkeypatch.setenv("PORTAL_MAIL_PORT", str(free_port()))
    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    engine = make_engine(url)
    migrate.upgrade(engine)  # as `make run` does first, so the worker thread finds its tables
    engine.dispose()
    seen: dict[str, Any] = {}

    def run(self: Flask, **options: Any) -> None:
        seen.update(options, debug=self.debug)

    monkeypatch.setattr(Flask, "run", run)
    devserver.main()
    assert seen["debug"] is True
    assert seen["use_debugger"] is False
