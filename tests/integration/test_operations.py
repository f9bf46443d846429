"""Operations: liveness and readiness for load balancers, Prometheus metrics for monitoring,
one JSON log line per request with its request id, and commands without library chatter."""

from __future__ import annotations

import dataclasses
import http.client
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from portal import create_app, logs, migrate
from portal.config import ConfigError, attach, settings_of
from portal.db import get_db, make_engine
from portal.mail import delivery
from portal.models import utcnow
from portal.services import outbox
from tests.conftest import TEST_SECRET, free_port

ROOT = Path(__file__).resolve().parents[2]
LATENCY = "portal_http_request_duration_seconds"
GUNICORN = (sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "2")
# What deploy/gunicorn.conf.py takes from the portal.
GUNICORN_CONFIG = """
from portal.logs import GUNICORN_LOGCONFIG as logconfig_dict
from portal.metrics import child_exit
"""


def _settings(app: Flask, **changes: Any) -> None:
    """Change the shared app's settings for this test (the fixture restores its extensions)."""
    attach(app, dataclasses.replace(settings_of(app), **changes))


def _queue(app: Flask, count: int = 1, age: timedelta | None = None) -> None:
    """Put ``count`` emails into the outbox, written ``age`` ago."""
    with get_db(app).session() as session:
        for number in range(count):
            message = outbox.enqueue(
                session,
                outbox.Email(
                    kind="test",
                    recipient="someone@example.org",
                    subject="Betreff",
                    body_text="Text",
                    body_html="<p>Text</p>",
                    message_id=f"<ops-{number}-{time.monotonic_ns()}@example.org>",
                ),
            )
            if age is not None:
                message.created_at = message.next_attempt_at = utcnow() - age


def _readiness(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    answer = client.get("/readyz")
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers
    return answer.status_code, json.loads(answer.get_data(as_text=True))


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", buffered=True)
    assert answer.status_code == 200
    return _samples(answer.get_data(as_text=True))


def _count(samples: dict[Any, float], endpoint: str, status_class: str = "2xx") -> float:
    key = (f"{LATENCY}_count", (("endpoint", endpoint), ("status_class", status_class)))
    return samples.get(key, 0.0)


# Liveness and readiness.


def test_healthz_answers_without_cookie_cache_or_language(client: FlaskClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "ok\n"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"])


def test_readyz_names_each_check_when_all_pass(client: FlaskClient) -> None:
    assert _readiness(client) == (
        200,
        {
            "status": "ok",
            "checks": {
                "database": "ok",
                "migrations": "ok",
                "outbox_backlog": "ok",
                "outbox_age": "ok",
            },
        },
    )


def test_readyz_fails_on_a_backlog_over_the_threshold(app: Flask, client: FlaskClient) -> None:
    _settings(app, ready_outbox_backlog=2)
    _queue(app, 2)
    assert _readiness(client)[0] == 200
    _queue(app, 1)
    status, body = _readiness(client)
    assert status == 503 and body["status"] == "fail"
    assert body["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "outbox_backlog": "fail",
        "outbox_age": "ok",
    }


def test_readyz_fails_when_an_unsent_email_waits_too_long(app: Flask, client: FlaskClient) -> None:
    _settings(app, ready_outbox_age_minutes=30)
    _queue(app, 1, age=timedelta(minutes=20))
    assert _readiness(client)[0] == 200
    _queue(app, 1, age=timedelta(minutes=45))
    status, body = _readiness(client)
    assert status == 503
    assert body["checks"]["outbox_age"] == "fail" and body["checks"]["outbox_backlog"] == "ok"


def test_readyz_fails_while_the_database_is_behind_the_code(
    app_config: dict[str, Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'behind.sqlite'}"
    head = migrate.head_revision()
    from alembic.script import ScriptDirectory

    previous = ScriptDirectory.from_config(migrate.alembic_config(make_engine(url))).get_revision(
        head
    )
    assert previous is not None and isinstance(previous.down_revision, str)
    engine = make_engine(url)
    migrate.upgrade(engine, previous.down_revision)
    engine.dispose()
    application = create_app({**app_config, "database_url": url})
    status, body = _readiness(application.test_client())
    assert status == 503 and body["checks"]["migrations"] == "fail"
    assert body["checks"]["database"] == "ok"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    assert _readiness(application.test_client())[0] == 200
    get_db(application).engine.dispose()


def test_readyz_fails_and_healthz_holds_while_the_database_is_unreachable(
    app_config: dict[str, Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.sqlite'}"
    application = create_app({**app_config, "database_url": url})
    client = application.test_client()
    status, body = _readiness(client)
    assert status == 503 and body["checks"]["database"] == "fail"
    assert set(body["checks"].values()) == {"fail"}
    assert client.get("/healthz").status_code == 200
    scraped = _scrape(client)  # monitoring still sees the processes' figures
    assert scraped[("portal_database_up", ())] == 0
    assert ("portal_outbox_messages", (("status", "pending"),)) not in scraped


# Metrics.


def test_metrics_are_hidden_from_addresses_not_allowed(app: Flask, client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert outside.status_code == 404 and "portal_" not in outside.get_data(as_text=True)


def test_metrics_follow_the_configured_networks(app: Flask, client: FlaskClient) -> None:
    _settings(app, metrics_allowed=("10.1.0.0/16", "2001:db8::/32"))
    app.extensions.pop("portal.metrics_allowed", None)
    allowed = {"10.1.2.3": 200, "2001:db8::5": 200, "10.2.0.1": 404, "127.0.0.1": 404}
    seen = {
        address: client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code
        for address in allowed
    }
    assert seen == allowed


def test_a_request_counts_in_the_latency_histogram_of_its_endpoint(
    client: FlaskClient,
) -> None:
    before = _scrape(client)
    client.get("/de/impressum", buffered=True)
    client.get("/de/no-such-page", buffered=True)
    after = _scrape(client)
    assert _count(after, "public.impressum") == _count(before, "public.impressum") + 1
    assert _count(after, "unmatched", "4xx") == _count(before, "unmatched", "4xx") + 1
    # Endpoint names only: never a path.
    assert not any("/" in dict(labels).get("endpoint", "") for _name, labels in after)


def test_a_failed_delivery_counts_and_the_outbox_gauges_show_it(
    app: Flask, client: FlaskClient
) -> None:
    key = ("portal_mail_delivery_failures_total", (("outcome", "retry"),))
    before = _scrape(client)
    _queue(app, 1)
    _settings(app, mail_port=free_port())  # nobody listens there
    result = delivery.deliver_due(app)
    assert result.retried == 1
    after = _scrape(client)
    assert after[key] == before.get(key, 0.0) + 1
    assert after[("portal_outbox_messages", (("status", "pending"),))] == 1
    assert after[("portal_outbox_oldest_unsent_seconds", ())] >= 0
    assert after[("portal_database_up", ())] == 1


# Request ids and log lines.


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the portal's loggers write, through the production formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.JsonFormatter())
    portal = logging.getLogger("portal")
    level = portal.level
    portal.addHandler(handler)
    portal.setLevel(logging.INFO)
    yield stream
    portal.removeHandler(handler)
    portal.setLevel(level)


def test_every_log_line_of_a_request_carries_its_request_id(
    app_config: dict[str, Any], tmp_path: Path, log_lines: io.StringIO
) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.sqlite'}"
    client = create_app({**app_config, "database_url": url}).test_client()
    answer = client.get("/de/impressum", buffered=True)
    assert answer.status_code == 500
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    loggers = {line["logger"] for line in lines}
    assert {"portal.errors", "portal", "portal.access"} <= loggers, loggers
    assert {line.get("request_id") for line in lines} == {answer.headers["X-Request-Id"]}


def test_a_request_id_from_the_client_is_not_trusted_without_a_proxy(client: FlaskClient) -> None:
    answer = client.get("/healthz", headers={"X-Request-Id": "chosen-by-the-visitor"})
    assert answer.headers["X-Request-Id"] != "chosen-by-the-visitor"


# The portal under gunicorn, two workers and a delivery worker sharing one metrics directory.


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer


def _wait_for(port: int) -> None:
    for _ in range(300):
        try:
            if _get(port, "/healthz").status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not answer")


@pytest.fixture
def production_env(app: Flask, app_config: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """The environment of the portal's processes in production mode, metrics shared."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    keep = ("PATH", "HOME", "LANG", "LC_ALL")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "PYTHONPATH": str(ROOT),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PORTAL_SECRET_KEY": TEST_SECRET,
        "PORTAL_DATABASE_URL": app_config["database_url"],
        "PORTAL_INSTANCE_PATH": app_config["instance_path"],
        "PORTAL_MAIL_PORT": str(free_port()),  # nobody listens: every delivery fails
        "PORTAL_PROXY_COUNT": "1",
    }


def test_two_workers_and_the_delivery_worker_share_metrics_and_log_json(
    app: Flask, production_env: dict[str, str]
) -> None:
    _queue(app, 1)
    worker = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", "outbox", "work", "--once"],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert worker.stdout.strip() == "sent=0 retried=1 failed=0"
    port = free_port()
    folder = Path(production_env["PROMETHEUS_MULTIPROC_DIR"]).parent
    log_file, config = folder / "gunicorn.log", folder / "gunicorn.conf.py"
    config.write_text(GUNICORN_CONFIG, "utf-8")
    with log_file.open("w") as stderr:
        server = subprocess.Popen(
            [*GUNICORN, "-c", str(config), "-b", f"127.0.0.1:{port}", "portal:create_app()"],
            cwd=ROOT,
            env=production_env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            _wait_for(port)
            for _ in range(20):
                _get(port, "/healthz")
            secret = "/de/booking/manage/Geheim-Token-0123456789?email=elif%40example.org"
            _get(port, secret)
            _get(port, "/static/css/portal.css")  # a file gunicorn may send with sendfile()
            given = _get(port, "/de/impressum", {"X-Request-Id": "nginx-1234abcd"})
            forged = _get(port, "/de/impressum", {"X-Request-Id": "evil id <script>"})
            scraped = _get_text(port, "/metrics")
        finally:
            server.terminate()
            server.wait(timeout=20)
    samples = _samples(scraped)
    # Twenty, and the one probe that found the server up: whichever worker answered each.
    assert _count(samples, "health.healthz") == 21
    assert samples[("portal_mail_delivery_failures_total", (("outcome", "retry"),))] == 1
    assert samples[("portal_outbox_messages", (("status", "pending"),))] == 1
    files = os.listdir(production_env["PROMETHEUS_MULTIPROC_DIR"])
    assert len({re.sub(r"\D", "", name) for name in files}) >= 2, files  # several processes

    assert given.getheader("X-Request-Id") == "nginx-1234abcd"
    assert re.fullmatch(r"[0-9a-f]{32}", forged.getheader("X-Request-Id") or "")
    written = log_file.read_text().splitlines()
    lines = [json.loads(line) for line in written]  # every line, gunicorn's own too
    assert any(line["logger"] == "gunicorn.error" for line in lines)
    requests = [line for line in lines if line["logger"] == "portal.access"]
    assert len(requests) >= 24
    assert set(requests[0]) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "endpoint",
        "status",
        "duration_ms",
        "bytes",
    }
    by_id = {line["request_id"]: line for line in requests}
    assert by_id["nginx-1234abcd"]["endpoint"] == "public.impressum"
    assert by_id["nginx-1234abcd"]["status"] == 200 and by_id["nginx-1234abcd"]["bytes"] > 1000
    assert any(line["endpoint"] == "booking.manage_link" for line in requests)
    [static] = [line for line in requests if line["endpoint"] == "static"]
    assert static["status"] == 200 and static["bytes"] > 1000
    # The portal's lines (gunicorn's own name the address it listens on).
    text = "\n".join(
        raw for raw, line in zip(written, lines, strict=True) if line["logger"].startswith("portal")
    )
    for leak in ("Geheim-Token", "elif", "example.org", "127.0.0.1", "/de/", "?", "evil"):
        assert leak not in text, leak


def _get_text(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    body = connection.getresponse().read().decode()
    connection.close()
    return body


# Commands print what they are for.


def test_commands_print_no_library_chatter(app: Flask, production_env: dict[str, str]) -> None:
    instance = Path(production_env["PORTAL_INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    env = {**production_env, "PORTAL_DATABASE_URL": f"sqlite:///{instance / 'fresh.sqlite'}"}
    outputs = []
    for command in (["db", "upgrade"], ["outbox", "status"], ["retention", "purge"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "portal", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.append(done.stdout + done.stderr)
    assert outputs[0] == f"Database is up to date: {env['PORTAL_DATABASE_URL']}\n"
    assert outputs[1].split() == ["pending", "0", "sending", "0", "sent", "0", "failed", "0"]
    assert outputs[2].startswith("drafts deleted 0") and outputs[2].count("\n") == 1


# Settings that would run the operations side wrongly stop the start.


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"metrics_allowed": ("127.0.0.1", "prometheus.internal")}, "PORTAL_METRICS_ALLOWED"),
        ({"ready_outbox_backlog": 0}, "PORTAL_READY_OUTBOX_BACKLOG"),
    ],
)
def test_wrong_operations_settings_stop_the_start(
    app_config: dict[str, Any], changes: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        create_app({**app_config, **changes})


def test_a_missing_metrics_directory_stops_the_start(
    app_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "not-made"))
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        create_app(app_config)
