"""Every public page in every language; headers, CSRF, rate limits, errors."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.db import get_db
from portal.i18n import CONTENT_LANGUAGES, EASY_LANGUAGE, LOCALE_CODES, LOCALES, Locale
from portal.services import towns
from tests.conftest import Mailbox, csrf_token, deliver, post_form
from tests.expect import body_of

PUBLIC_PAGES = [
    "/",
    "/request/",
    "/impressum",
    "/datenschutz",
    "/barrierefreiheit",
    "/staff/signin",
]


@pytest.mark.parametrize("locale", LOCALES, ids=LOCALE_CODES)
def test_every_public_page_renders_in_every_language(client: FlaskClient, locale: Locale) -> None:
    for page in PUBLIC_PAGES:
        if page.startswith("/staff/") and locale.code == EASY_LANGUAGE:
            continue  # German only: see the redirect test below
        response = client.get(f"/{locale.code}{page}")
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        assert f'<html lang="{locale.html_lang}" dir="{locale.direction}">' in html
        # Language alternates on public pages; not on staff pages, nor in Leichte Sprache,
        # which is German and no language of its own (tests/integration/test_search_engines.py).
        alternates = page != "/staff/signin" and locale.code != EASY_LANGUAGE
        for other in CONTENT_LANGUAGES:
            assert (f'<link rel="alternate" hreflang="{other}"' in html) is alternates, page
        assert 'hreflang="ls"' not in html, "ls is no language tag"


def _phone_line(html: str) -> str:
    match = re.search(r'<div class="phone-line">(.*?)</div>', html, re.S)
    assert match, "no phone line"
    return match.group(1)


@pytest.mark.parametrize("lang", LOCALE_CODES)
def test_every_page_shows_both_towns_phone_numbers_in_its_footer(
    client: FlaskClient, lang: str
) -> None:
    for page in ("/", "/request/", "/impressum", "/no-such-page"):
        line = _phone_line(client.get(f"/{lang}{page}").get_data(as_text=True))
        assert 'href="tel:052469610"' in line and "05246 961-0" in line, page
        assert 'href="tel:0520789050"' in line and "05207 8905-0" in line, page


def test_a_town_without_a_phone_number_is_left_out_of_the_phone_line(
    app: Flask, client: FlaskClient
) -> None:
    with get_db(app).session() as session:
        towns.town_by_slug(session, "shs").phone = ""  # type: ignore[union-attr]
    line = _phone_line(client.get("/de/").get_data(as_text=True))
    assert "05246 961-0" in line and "Schloß Holte-Stukenbrock" not in line


def test_leichte_sprache_pages_are_german_with_their_own_look(client: FlaskClient) -> None:
    html = client.get("/ls/request/").get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in html and '<body class="easy-read">' in html
    assert 'class="easy-read"' not in client.get("/de/request/").get_data(as_text=True)
    menu = re.search(r'<nav class="lang-nav".*?</nav>', html, re.S).group(0)  # type: ignore[union-attr]
    assert (
        'href="/ls/request/" lang="de" hreflang="de" dir="ltr" aria-current="true">Leichte Sprache'
        in menu
    )
    arabic = client.get("/ar/").get_data(as_text=True)
    assert 'href="/ls/" lang="de" hreflang="de" dir="ltr">Leichte Sprache</a>' in arabic


def test_the_home_page_in_leichte_sprache_introduces_the_soziales_duo(client: FlaskClient) -> None:
    html = client.get("/ls/").get_data(as_text=True)
    intro = html[html.index('<div lang="de" class="easy-intro">') :]
    for heading in ("Wer ist das Soziale Duo?", "Was kostet das?", "Haus·besuch", "Not·fall"):
        assert heading in intro
    assert "Das Soziale Duo ist ein Dienst von 2 Städten" in intro
    assert "Wir sind 2 Städte" not in html
    for number in ("tel:112", "tel:110", "tel:116117", "tel:08001110111", "tel:052469610"):
        assert number in intro
    assert 'href="/ls/request/"' in intro and 'href="/ls/booking/"' in intro
    assert "easy-intro" not in client.get("/de/").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["de", "ar", "ls"])
def test_the_old_leichte_sprache_page_leads_to_the_home_page_in_leichte_sprache(
    client: FlaskClient, lang: str
) -> None:
    response = client.get(f"/{lang}/leichte-sprache")
    assert response.status_code == 301 and response.headers["Location"] == "/ls/"


def test_the_staff_area_is_not_offered_in_leichte_sprache(client: FlaskClient) -> None:
    response = client.get("/ls/staff/signin")
    assert response.status_code == 302 and response.headers["Location"] == "/de/staff/signin"
    inbox = client.get("/ls/staff/?status=waiting&town=shs")
    assert inbox.headers["Location"] == "/de/staff/?status=waiting&town=shs"
    token = csrf_token(client, "/de/staff/signin")
    posted = client.post("/ls/staff/signin", data={"email": "a@example.org", "csrf_token": token})
    assert posted.status_code == 307 and posted.headers["Location"] == "/de/staff/signin"
    german = client.get("/de/staff/signin", follow_redirects=False)
    assert german.status_code == 200 and 'lang="de"' in german.get_data(as_text=True)
    assert client.get("/ls/staff/no-such-page").status_code == 404


def test_the_open_data_api_never_names_leichte_sprache_a_language(client: FlaskClient) -> None:
    response = client.get("/api/hsds/services?lang=ls")
    assert response.status_code == 400 and "ls" not in response.get_json()["error"].split(": ")[-1]
    assert client.get("/api/hsds/services?lang=de").headers["Content-Language"] == "de"


def test_the_browser_language_never_picks_leichte_sprache(client: FlaskClient) -> None:
    assert (
        client.get("/", headers={"Accept-Language": "ls, de;q=0.5"}).headers["Location"] == "/de/"
    )


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


def test_the_rate_limit_page_says_how_long_to_wait(app_config: dict) -> None:
    from portal import create_app

    app = create_app(
        {**app_config, "ratelimit_disabled": False, "rate_limit_submit": "1 per 15 minutes"}
    )
    client = app.test_client()
    for _ in range(2):
        refused = post_form(client, "/en/barrierefreiheit", {"message": "Kontrast zu schwach"})
    get_db(app).engine.dispose()
    assert refused.status_code == 429
    assert "Please wait at most 15 minutes and then try again." in refused.get_data(as_text=True)


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
    body = body_of(message, "plain")
    assert "Die Schrift ist zu klein." in body and "Sprache der Seite: Türkisch" in body
    bad = post_form(
        client, "/de/barrierefreiheit", {"message": "x", "email": "a@b.de\nBcc: c@d.de"}
    )
    assert bad.status_code == 200 and "E-Mail-Adresse wie" in bad.get_data(as_text=True)


def test_static_files_are_small(client: FlaskClient) -> None:
    css = client.get("/static/css/portal.css")
    assert css.status_code == 200 and len(css.data) < 40_000
    css.close()
    assert len(client.get("/de/").data) < 30_000
