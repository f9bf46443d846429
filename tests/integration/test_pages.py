"""Every public page in every language; headers, CSRF, rate limits, errors."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.db import get_db
from portal.i18n import LOCALE_CODES
from tests.conftest import Mailbox, deliver, post_form

PUBLIC_PAGES = [
    "/",
    "/request/",
    "/impressum",
    "/datenschutz",
    "/leichte-sprache",
    "/barrierefreiheit",
    "/staff/signin",
]


@pytest.mark.parametrize("lang", LOCALE_CODES)
def test_every_public_page_renders_in_every_language(client: FlaskClient, lang: str) -> None:
    for page in PUBLIC_PAGES:
        response = client.get(f"/{lang}{page}")
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        direction = "rtl" if lang == "ar" else "ltr"
        assert f'<html lang="{lang}" dir="{direction}">' in html
        for other in LOCALE_CODES:
            assert f'hreflang="{other}"' in html


def test_the_root_and_entry_points_follow_the_browser_language(client: FlaskClient) -> None:
    assert client.get("/", headers={"Accept-Language": "uk,de;q=0.5"}).headers["Location"] == "/uk/"
    assert (
        client.get("/request/", headers={"Accept-Language": "ar"}).headers["Location"]
        == "/ar/request/"
    )
    assert client.get("/", headers={"Accept-Language": "fr"}).headers["Location"] == "/de/"


def test_an_unknown_language_or_page_gets_a_translated_404(client: FlaskClient) -> None:
    assert client.get("/xx/").status_code == 404
    response = client.get("/ar/no-such-page")
    assert response.status_code == 404
    assert '<html lang="ar" dir="rtl">' in response.get_data(as_text=True)


def test_security_headers_are_strict(client: FlaskClient) -> None:
    headers = client.get("/de/").headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe" not in csp
    assert (
        "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp and "object-src 'none'" in csp
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    # HSTS means something only over HTTPS (see test_headers.py); plain HTTP does not send it.
    assert "Strict-Transport-Security" not in headers
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(client: FlaskClient) -> None:
    response = client.post("/de/request/", data={})
    assert response.status_code == 400
    assert "Seite war zu lange offen" in response.get_data(as_text=True)


def test_secure_cookies_when_served_over_https(app_config: dict) -> None:
    from portal import create_app

    app = create_app({**app_config, "public_url": "https://portal.example.org", "proxy_count": 1})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-portal"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    get_db(app).engine.dispose()


def test_submissions_are_rate_limited(app_config: dict) -> None:
    from portal import create_app

    app = create_app({**app_config, "ratelimit_disabled": False, "rate_limit_submit": "2 per hour"})
    client = app.test_client()
    codes = [
        post_form(client, "/de/barrierefreiheit", {"message": "Kontrast zu schwach"}).status_code
        for _ in range(3)
    ]
    get_db(app).engine.dispose()
    assert codes == [302, 302, 429]


def test_accessibility_feedback_reaches_the_inbox_with_a_validated_reply_to(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    response = post_form(
        client,
        "/tr/barrierefreiheit",
        {"message": "Die Schrift ist zu klein.", "email": "leser@example.org"},
    )
    assert response.status_code == 302
    deliver(app)
    [message] = mailbox.to("barrierefreiheit@example.org")
    assert message["Reply-To"] == "leser@example.org"
    assert "Die Schrift ist zu klein." in message.get_body(("plain",)).get_content()
    bad = post_form(
        client, "/de/barrierefreiheit", {"message": "x", "email": "a@b.de\nBcc: c@d.de"}
    )
    assert bad.status_code == 200 and "E-Mail-Adresse wie" in bad.get_data(as_text=True)


def test_static_files_are_small(client: FlaskClient) -> None:
    css = client.get("/static/css/portal.css")
    assert css.status_code == 200 and len(css.data) < 40_000
    css.close()
    assert len(client.get("/de/").data) < 30_000
