"""The files in deploy/ stay valid, and nginx behaves as the site file promises.

nginx (Debian's package, `make system-deps`) runs deploy/nginx/soziales-duo.conf with local
ports and a self-signed certificate in front of a small recording upstream; gunicorn loads
deploy/gunicorn.conf.py; the systemd units name commands that exist.
"""

from __future__ import annotations

import http.client
import json
import os
import runpy
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from portal.tools import deploy_local
from tests.conftest import TEST_SECRET, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UNITS = ["portal-web@.service", "portal-delivery@.service", "portal-purge.service"]


class Upstream(BaseHTTPRequestHandler):
    """An app server stand-in: answers with the headers it got (JSON under /api/, else as a
    page), caching as the path says."""

    hits: dict[str, int] = {}

    def do_GET(self) -> None:
        """``/public…`` is public for a minute, ``/cookie…`` sets a cookie, the rest no-store."""
        Upstream.hits[self.path] = Upstream.hits.get(self.path, 0) + 1
        # Headers as JSON, padded past nginx's gzip_min_length.
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode() + b" " * 1024
        self.send_response(200)
        if self.path.startswith("/public"):
            self.send_header("Cache-Control", "public, max-age=60")
        else:
            self.send_header("Cache-Control", "no-store")
        if self.path.startswith("/public/cookie"):
            self.send_header("Set-Cookie", "portal=abc; HttpOnly")
        api = self.path.startswith("/api/")
        self.send_header("Content-Type", "application/json" if api else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        """Read the form, then answer as to a GET."""
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.do_GET()

    def log_message(self, *_args: Any) -> None:
        """Quiet."""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[int]:
    """A fresh nginx with the deploy site: the first upstream refuses connections, the second
    records what it gets."""
    folder = tmp_path
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    https_port = free_port()
    certificate, key = deploy_local.self_signed_certificate(folder)
    local = deploy_local.LocalSite(
        folder / "site",
        free_port(),
        https_port,
        (free_port(), server.server_address[1]),  # the first one is down
        certificate,
        key,
    )
    local.folder.mkdir()
    conf = local.folder / "nginx.conf"
    conf.write_text(deploy_local.nginx_main(local))
    error_log = str(local.folder / "error.log")
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(conf), "-e", error_log], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-e", error_log])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", https_port), 1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield https_port
    nginx.terminate()
    nginx.wait(10)
    server.shutdown()
    server.server_close()


def fetch(
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: bytes = b"",
) -> http.client.HTTPResponse:
    """One request over HTTPS to the local nginx (its self-signed certificate unchecked)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    connection.request(method, path, body=body or None, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def seen_by_app(port: int, path: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    """The request headers the app server received."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    connection.request("GET", path, headers=headers or {})
    seen: dict[str, str] = json.loads(connection.getresponse().read())
    connection.close()
    return seen


def test_the_client_address_is_set_by_nginx_not_taken_from_the_client(site: int) -> None:
    seen = seen_by_app(site, "/echo", {"X-Forwarded-For": "203.0.113.7"})
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "https"


def test_a_dead_app_server_is_skipped_for_gets_and_posts_not_yet_sent(site: int) -> None:
    # The first request goes to the first app server, which is down: nginx tries the next.
    assert fetch(site, "/echo/1", method="POST", body=b"a=1").status == 200
    for n in range(3):
        assert fetch(site, f"/echo/{n}").status == 200


def test_public_pages_are_cached_briefly_but_not_for_sessions_or_private_answers(
    site: int,
) -> None:
    for _ in range(3):
        fetch(site, "/public/page")
    assert Upstream.hits["/public/page"] == 1
    for _ in range(2):
        fetch(site, "/public/page", {"Cookie": "lang=de; __Host-portal=sealed"})
    assert Upstream.hits["/public/page"] == 3  # a session is never served from the cache
    for _ in range(2):
        fetch(site, "/private")
        fetch(site, "/public/cookie")
    assert Upstream.hits["/private"] == 2
    assert Upstream.hits["/public/cookie"] == 2  # an answer with Set-Cookie is never kept


def test_fingerprinted_static_files_are_kept_a_year_others_a_day(site: int) -> None:
    fingerprinted = fetch(site, "/static/css/portal.css?v=0123456789ab")
    plain = fetch(site, "/static/css/portal.css")
    assert fingerprinted.status == plain.status == 200
    assert fingerprinted.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert plain.headers["Cache-Control"] == "public, max-age=86400"
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert fetch(site, "/static/css/missing.css").status == 404  # nginx's, not the app's


def test_bodies_over_the_apps_limit_are_refused_and_no_version_is_named(site: int) -> None:
    refused = fetch(site, "/echo", method="POST", body=b"x" * (65 * 1024))
    assert refused.status == 413
    assert refused.headers["Server"] == "nginx"


def test_gunicorn_loads_the_deploy_configuration(tmp_path: Path) -> None:
    web = deploy_local.unit_command("portal-web@.service", "8001")
    env = {
        **os.environ,
        **web.environment,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "PORTAL_SECRET_KEY": TEST_SECRET,
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path}/check.sqlite",
    }
    checked = subprocess.run(
        [*web.argv, "--check-config", "--print-config"],
        env=env,
        capture_output=True,
        text=True,
        cwd=deploy_local.ROOT,
    )
    assert checked.returncode == 0, checked.stderr
    printed = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in checked.stdout.splitlines())
    )
    assert printed["bind"] == "['127.0.0.1:8001']"
    assert printed["forwarded_allow_ips"] == "['127.0.0.1', '::1']"
    assert printed["accesslog"] == "None"


def test_the_child_exit_hook_marks_a_dead_worker_only_with_multiprocess_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = runpy.run_path(str(deploy_local.DEPLOY / "gunicorn.conf.py"))

    class Worker:
        pid = 4242

    live = tmp_path / "gauge_livesum_4242.db"
    live.write_bytes(b"")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    hooks["child_exit"](None, Worker())
    assert live.exists()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    hooks["child_exit"](None, Worker())
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        assert live.exists()  # nothing to mark without the library
    else:
        assert not live.exists()


@pytest.mark.parametrize("unit", UNITS)
def test_each_unit_starts_a_command_that_exists(unit: str) -> None:
    command = deploy_local.unit_command(unit, "1")
    assert Path(command.argv[0]).is_file() and os.access(command.argv[0], os.X_OK)
    if Path(command.argv[0]).name == "flask":
        helped = subprocess.run(
            [*command.argv, "--help"],
            env={**os.environ, "PORTAL_DEBUG": "true"},
            capture_output=True,
            text=True,
            cwd=deploy_local.ROOT,
        )
        assert helped.returncode == 0, helped.stderr


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    names = {"portal-web@.service": "portal-web@8001.service"}
    names |= {"portal-delivery@.service": "portal-delivery@1.service"}
    for unit in [*UNITS, "portal-purge.timer"]:
        text = (deploy_local.UNITS / unit).read_text("utf-8")
        text = text.replace(deploy_local.INSTALLED_CHECKOUT, str(deploy_local.ROOT))
        (tmp_path / names.get(unit, unit)).write_text(text)
    checked = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
    )
    problems = [
        line
        for line in checked.stderr.splitlines()
        # Users and the env file belong to the installed machine, not to this checkout.
        if "/etc/soziales-duo" not in line and "soziales-duo" not in line.split(":", 1)[-1]
    ]
    # systemd only warns about a directive it cannot parse (and ignores it): any line counts.
    assert checked.returncode == 0 and not problems, checked.stderr


def test_css_and_the_api_are_compressed_but_pages_with_tokens_are_not(site: int) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    css = fetch(site, "/static/css/portal.css", gzip)
    api = fetch(site, "/api/hsds/services?" + "x" * 600, gzip)
    page = fetch(site, "/de/request/?" + "x" * 600, gzip)
    assert css.headers["Content-Encoding"] == "gzip"
    assert api.headers["Content-Encoding"] == "gzip"
    assert page.headers.get("Content-Encoding") is None
