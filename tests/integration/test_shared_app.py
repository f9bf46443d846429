"""The shared app of the test suite: what one test commits or changes is gone for the next."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from portal import create_app
from portal.db import get_db
from portal.models import SecurityEvent
from portal.security import limiter
from tests.conftest import rolled_back


def _events(app: Flask) -> int:
    with get_db(app).readers() as session:
        return int(session.scalar(select(func.count()).select_from(SecurityEvent)) or 0)


def test_a_commit_inside_a_test_is_rolled_back_at_its_end(shared_app: Flask) -> None:
    with rolled_back(shared_app) as app:
        with get_db(app).session() as session:  # commits, as the worker and the CLI do
            session.add(SecurityEvent(kind="signin_failed"))
        assert _events(app) == 1
    with rolled_back(shared_app) as app:
        assert _events(app) == 0


def test_settings_extensions_and_counters_are_restored(shared_app: Flask) -> None:
    with rolled_back(shared_app) as app:
        app.config["PROPAGATE_EXCEPTIONS"] = False
        app.extensions["portal.left_behind"] = object()
        throttle = app.extensions["portal.event_throttle"]
        assert throttle.allows("csrf", "203.0.113.7")
        assert not throttle.allows("csrf", "203.0.113.7")
    with rolled_back(shared_app) as app:
        assert app.config["PROPAGATE_EXCEPTIONS"] is None
        assert "portal.left_behind" not in app.extensions
        assert app.extensions["portal.event_throttle"].allows("csrf", "203.0.113.7")


def test_rate_limits_switched_on_by_another_app_stay_off_in_the_shared_app(
    shared_app: Flask, app_config: dict[str, Any]
) -> None:
    create_app({**app_config, "ratelimit_disabled": False, "rate_limit_submit": "1 per hour"})
    assert limiter.enabled  # one limiter for every app: the last one built switched it on
    with rolled_back(shared_app) as app:
        client = app.test_client()
        assert [client.get("/de/").status_code for _ in range(3)] == [200, 200, 200]
        assert not limiter.enabled
