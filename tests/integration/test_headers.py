"""Response headers of every route, graded by the MDN HTTP Observatory's rules; methods;
security.txt; the server banner of the production server."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.http import parse_dict_header

from portal import create_app
from portal.db import get_db
from portal.models import Booking, HelpRequest
from portal.page_cache import CACHE_CONTROL
from tests.booking_support import confirm, seed_schedule, walk_booking
from tests.conftest import answer_all, free_port, submit
from tests.integration.test_staff import make_staff, sign_in

ROOT = Path(__file__).resolve().parents[2]
HTTPS = "https://portal.example.org"
# Observatory: "Referrer-Policy header set to no-referrer, same-origin, strict-origin or
# strict-origin-when-cross-origin" earns the bonus; the others cost points.
GOOD_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
UNSAFE_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "data:", "http:", "*")
SIX_MONTHS = 15_768_000


def parse_csp(value: str) -> dict[str, list[str]]:
    """The directives of a Content-Security-Policy header."""
    policy: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.strip().split()
        if words:
            policy.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return policy


def _csp_problems(value: str | None) -> list[str]:
    if not value:
        return ["csp-not-implemented"]
    csp = parse_csp(value)
    problems = []
    for directive, sources in csp.items():
        for source in sources:
            if source in UNSAFE_SOURCES or source.startswith(("http://", "https:")):
                problems.append(f"csp-unsafe-source {directive} {source}")
    if csp.get("default-src") not in (["'none'"], ["'self'"]):
        problems.append("csp-default-src-not-none-or-self")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append("csp-frame-ancestors-not-none")
    if csp.get("object-src", csp.get("default-src")) != ["'none'"]:
        problems.append("csp-object-src-not-none")
    if csp.get("base-uri") not in (["'none'"], ["'self'"]):
        problems.append("csp-base-uri-missing")
    if csp.get("form-action") not in (["'none'"], ["'self'"]):
        problems.append("csp-form-action-missing")
    return problems


def _cookie_problems(set_cookies: list[str], https: bool) -> list[str]:
    problems = []
    for cookie in set_cookies:
        name = cookie.split("=", 1)[0]
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        if "httponly" not in attributes:
            problems.append(f"cookie-without-httponly {name}")
        if not any(part.strip().lower().startswith("samesite=") for part in cookie.split(";")):
            problems.append(f"cookie-without-samesite {name}")
        if https and not ("secure" in attributes and name.startswith("__Host-")):
            problems.append(f"cookie-not-secure-host-prefixed {name}")
        if https and ("domain" in attributes or "path=/" not in cookie.lower()):
            problems.append(f"cookie-host-prefix-rules {name}")
    return problems


def observatory(response: Any, path: str, https: bool) -> list[str]:
    """The Observatory's tests that would cost points on this response."""
    headers = response.headers
    problems = _csp_problems(headers.get("Content-Security-Policy"))
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("x-content-type-options-not-implemented")
    if headers.get("X-Frame-Options") not in ("DENY", "SAMEORIGIN"):
        problems.append("x-frame-options-not-implemented")
    if headers.get("Referrer-Policy") not in GOOD_REFERRER:
        problems.append("referrer-policy-unsafe")
    if headers.get("Cross-Origin-Resource-Policy") not in ("same-origin", "same-site"):
        problems.append("corp-not-implemented")
    if headers.get("Cross-Origin-Opener-Policy") != "same-origin":
        problems.append("coop-not-same-origin")
    hsts = headers.get("Strict-Transport-Security")
    if https:
        max_age = int(parse_dict_header((hsts or "").replace(";", ",")).get("max-age") or 0)
        if max_age < SIX_MONTHS:
            problems.append("hsts-not-implemented-or-short")
    origin = headers.get("Access-Control-Allow-Origin")
    if origin and not (origin == "*" and path.startswith("/api/")):
        problems.append("cors-implemented-with-universal-access")
    if origin and headers.get("Access-Control-Allow-Credentials"):
        problems.append("cors-with-credentials")
    problems += _cookie_problems(headers.getlist("Set-Cookie"), https)
    if re.search(r"\d", headers.get("Server", "")) or "X-Powered-By" in headers:
        problems.append("version-banner")
    return problems


def _private(response: Any, path: str) -> bool:
    """Whether the response carries request data or a form: then nothing may cache it."""
    body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    return (
        path.startswith(("/de/request/", "/de/booking/", "/de/staff/"))
        or 'name="csrf_token"' in body
        or response.status_code >= 400
    )


def _sample_url(rule: Any, values: dict[str, Any]) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values.get(name, 1)), url)
    return url


def _walk_every_route(app: Flask, client: FlaskClient, values: dict[str, Any], https: bool) -> int:
    """GET (or POST, where only POST exists) each rule; returns how many were checked."""
    checked = 0
    failures = []
    for rule in app.url_map.iter_rules():
        path = _sample_url(rule, values)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        response = client.open(path, method=method)
        problems = observatory(response, path, https)
        if _private(response, path) and "no-store" not in response.headers.get("Cache-Control", ""):
            problems.append("cache-control-not-no-store")
        if problems:
            failures.append((method, path, response.status_code, problems))
        response.close()
        checked += 1
    assert not failures, failures
    return checked


@pytest.fixture
def https_app(app: Flask, app_config: dict[str, Any]) -> Any:
    """The portal as run behind a TLS proxy: https PUBLIC_URL, one proxy."""
    secure = create_app({**app_config, "public_url": HTTPS, "proxy_count": 1})
    yield secure
    get_db(secure).engine.dispose()


def _https_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update(
        {
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_FOR": "198.51.100.9",
            "HTTP_REFERER": "https://localhost/de/",
        }
    )
    return client


def _sample_values(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """Real identifiers where the database has them, so routes answer with their pages."""
    seed_schedule(app)
    walk_booking(client)
    confirm(client)
    answer_all(client)
    submit(client)
    with get_db(app).session() as session:
        help_request = session.query(HelpRequest).order_by(HelpRequest.id.desc()).first()
        booking = session.query(Booking).first()
        assert help_request is not None and booking is not None
        reference, location = help_request.reference, booking.location_id
    return {
        "lang": "de",
        "reference": reference,
        "action": "take",
        "kind": "service",
        "token": "A" * 43,
        "location_id": location,
        "filename": "css/portal.css",
        "name": "who",
    }


def test_every_route_scores_full_marks_over_https(https_app: Flask) -> None:
    anonymous = _https_client(https_app)
    values = _sample_values(https_app, anonymous)
    assert _walk_every_route(https_app, anonymous, values, https=True) > 100
    staff = _https_client(https_app)
    secret = make_staff(https_app, "koordination@example.org", None, role="coordinator")
    sign_in(staff, "koordination@example.org", secret)
    _walk_every_route(https_app, staff, values, https=True)
    admin = _https_client(https_app)
    secret = make_staff(https_app, "admin@example.org", None, role="admin")
    sign_in(admin, "admin@example.org", secret)
    _walk_every_route(https_app, admin, values, https=True)


def test_over_https_the_session_cookie_is_host_prefixed_and_hsts_is_sent(
    https_app: Flask,
) -> None:
    client = _https_client(https_app)
    response = client.post(f"{HTTPS}/de/request/", data={})
    assert response.status_code == 400  # no CSRF token; the session holds one now
    page = client.get(f"{HTTPS}/de/request/")
    [cookie] = page.headers.getlist("Set-Cookie") or response.headers.getlist("Set-Cookie")
    assert cookie.startswith("__Host-portal=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_over_plain_http_in_development_the_rules_hold_too(app: Flask, client: FlaskClient) -> None:
    values = _sample_values(app, client)
    _walk_every_route(app, client, values, https=False)


def test_the_open_data_api_is_cached_publicly_but_a_search_in_it_is_not(
    client: FlaskClient,
) -> None:
    listing = client.get("/api/hsds/services")
    assert listing.headers["Cache-Control"] == CACHE_CONTROL
    searched = client.get("/api/hsds/services?search=Schulden")
    assert searched.status_code == 200 and searched.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "DELETE", "TRACE", "PATCH", "PROPFIND"])
@pytest.mark.parametrize("path", ["/de/", "/de/request/", "/api/hsds/", "/static/css/portal.css"])
def test_only_get_head_and_post_are_answered(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 405, (method, path)
    allowed = set(response.headers["Allow"].split(", "))
    assert "GET" in allowed and allowed <= {"GET", "HEAD", "POST"}
    response.close()


def test_get_head_and_post_still_work(app: Flask, client: FlaskClient) -> None:
    assert client.get("/de/").status_code == 200
    assert FlaskClient(app, app.response_class).head("/de/").status_code == 200
    assert client.post("/de/request/", data={}).status_code == 400  # CSRF, not the method


def test_security_txt_follows_rfc_9116(app_config: dict[str, Any]) -> None:
    app = create_app(
        {
            **app_config,
            "public_url": HTTPS,
            "proxy_count": 1,
            "security_contact": "mailto:sicherheit@verl.de",
            "security_txt_expires": "2027-06-30",
        }
    )
    response = app.test_client().get("/.well-known/security.txt")
    get_db(app).engine.dispose()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    fields = dict(line.split(": ", 1) for line in response.get_data(as_text=True).splitlines())
    assert fields == {
        "Contact": "mailto:sicherheit@verl.de",
        "Expires": "2027-06-30T00:00:00Z",
        "Preferred-Languages": "de, en",
        "Canonical": f"{HTTPS}/.well-known/security.txt",
    }


def test_security_txt_without_a_date_expires_within_a_year(client: FlaskClient) -> None:
    text = client.get("/.well-known/security.txt").get_data(as_text=True)
    expires = re.search(r"^Expires: (\S+)$", text, re.M)
    assert expires and re.search(r"^Contact: mailto:\S+@\S+$", text, re.M)
    ahead = datetime.fromisoformat(expires.group(1).replace("Z", "+00:00")) - datetime.now(UTC)
    assert 0 < ahead.days < 365


def test_the_production_server_shows_no_version(app_config: dict[str, Any]) -> None:
    """gunicorn, as the README runs it: the Server header names no product version."""
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_SECRET_KEY": app_config["secret_key"],
        "PORTAL_DATABASE_URL": app_config["database_url"],
        "PORTAL_INSTANCE_PATH": app_config["instance_path"],
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "portal:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        headers: list[tuple[str, str]] = []
        for _ in range(200):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                connection.request("GET", "/de/impressum")
                answer = connection.getresponse()
                answer.read()
                headers = answer.getheaders()
                break
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        assert headers, "gunicorn did not answer"
        servers = [value for name, value in headers if name.lower() == "server"]
        assert servers and not any(re.search(r"[0-9]", value) for value in servers), servers
        assert not any(name.lower() == "x-powered-by" for name, _value in headers)
    finally:
        server.terminate()
        server.wait(timeout=10)
