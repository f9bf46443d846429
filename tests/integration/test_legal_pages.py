"""Accessibility statement, Impressum, and the towns' phones on contact and error pages."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import create_app
from portal.config import settings_of
from portal.db import get_db
from portal.legal import accessibility, impressum
from portal.models import Town
from portal.services import towns
from tests.conftest import Mailbox, deliver, post_form
from tests.expect import body_of

SHS_PHONE = "05207 8905-0"
VERL_PHONE = "05246 961-0"


def _text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_statement_names_status_standard_and_the_dates_of_its_facts(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = _text(client, "/de/barrierefreiheit")
    assert "teilweise mit den Anforderungen vereinbar" in html
    assert "EN 301 549 V3.2.1" in html and "WCAG 2.1 AA" in html and "BITV NRW" in html
    assert "Selbstbewertung" in html and "axe-core" in html and "Nu Html Checker" in html
    assert "am 25. November 2026 erstellt und zuletzt am 3. Dezember 2026" in html
    # A review changes one fact and no sentence: the page follows, in every language.
    monkeypatch.setattr(accessibility, "REVIEWED_ON", date(2027, 6, 30))
    assert "zuletzt am 30. Juni 2027 überprüft" in _text(client, "/de/barrierefreiheit")
    assert "June 30, 2027" in _text(client, "/en/barrierefreiheit")
    assert "30. Juni 2027" in _text(client, "/ls/barrierefreiheit")
    monkeypatch.setattr(accessibility, "facts", _fully(accessibility.facts))
    assert "vollständig mit den Anforderungen vereinbar" in _text(client, "/de/barrierefreiheit")


def _fully(original: Any) -> Any:
    def facts(settings: Any, towns: Any = None) -> accessibility.AccessibilityFacts:
        from dataclasses import replace

        return replace(original(settings, towns), status=accessibility.FULLY)

    return facts


def test_each_gap_has_a_reason_and_an_accessible_alternative(client: FlaskClient) -> None:
    html = _text(client, "/de/barrierefreiheit")
    gaps = html.split("Was noch nicht barrierefrei ist")[1].split("</ul>")[0]
    assert gaps.count("<li>") == 3
    assert gaps.count("Grund:") == 3
    assert gaps.count("So lange") + gaps.count("holen wir die Information") == 3


def test_the_statement_names_the_ombudsstelle_with_link_email_phone_and_when(
    client: FlaskClient,
) -> None:
    html = _text(client, "/de/barrierefreiheit")
    assert "Ombudsstelle für barrierefreie Informationstechnik" in html
    assert 'href="https://www.lbbp.nrw.de/ombudsstelle"' in html
    assert 'href="mailto:ombudsstelle-barrierefreie-it@mags.nrw.de"' in html
    assert "0211 855-3451" in html and "Fürstenwall 25" in html
    assert "nach 6 Wochen keine Antwort" in html
    # The responsible office beside the form: email, phone and postal address.
    office = html.split("Zuständige Stelle")[1]
    assert "barrierefreiheit@example.org" in office and VERL_PHONE in office
    assert "Paderborner Straße 5" in office
    assert "in einer für Sie zugänglichen Form zu bekommen" in html


def test_a_sign_language_interpreter_can_be_asked_for_in_writing_free_of_charge(
    client: FlaskClient,
) -> None:
    html = _text(client, "/de/barrierefreiheit")
    section = html.split('id="gebaerdensprache"')[1].split("<h2")[0]
    assert "Deutsche Gebärdensprache" in section and "kostenlos" in section
    assert "E-Mail" in section and "Sie müssen nicht anrufen" in section


def test_the_feedback_confirmation_promises_the_statements_answer_period(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def promised(lang: str) -> tuple[str, str]:
        statement = _text(client, f"/{lang}/barrierefreiheit")
        response = post_form(client, f"/{lang}/barrierefreiheit", {"message": "Kontrast"})
        assert response.status_code == 302
        return statement, _text(client, response.headers["Location"])

    statement, confirmation = promised("de")
    assert "antworten innerhalb von 2 Wochen" in statement
    assert "antworten wir innerhalb von 2 Wochen" in confirmation
    assert "zwei Wochen" not in statement + confirmation
    monkeypatch.setattr(accessibility, "ANSWER_WEEKS", 3)
    statement, confirmation = promised("de")
    assert "innerhalb von 3 Wochen" in statement and "innerhalb von 3 Wochen" in confirmation
    statement, confirmation = promised("en")
    assert "within 3 weeks" in statement and "within 3 weeks" in confirmation


def test_the_feedback_inbox_is_told_the_period_the_reader_was_promised(
    app: Flask, client: FlaskClient, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accessibility, "ANSWER_WEEKS", 3)
    assert post_form(client, "/ar/barrierefreiheit", {"message": "Kontrast"}).status_code == 302
    deliver(app)
    [message] = mailbox.to("barrierefreiheit@example.org")
    body = body_of(message, "plain")
    assert "Antwort innerhalb von 3 Wochen zugesagt" in body and "Zwischennachricht" in body
    assert "Ombudsstelle" in body and "zwei Wochen" not in body


def test_leichte_sprache_readers_get_the_statement_in_leichte_sprache(client: FlaskClient) -> None:
    html = _text(client, "/ls/barrierefreiheit")
    assert '<html lang="de"' in html
    assert "Die Seite ist zum Teil barriere·frei." in html
    assert "Ombuds·stelle" in html and "0211 855-3451" in html
    assert "Gebärden·sprache" in html and "kostet Sie nichts" in html
    assert 'href="/de/barrierefreiheit"' in html
    # The form still works from the Leichte Sprache page.
    assert post_form(client, "/ls/barrierefreiheit", {"message": "Zu klein"}).status_code == 302


def test_the_impressum_names_both_towns_their_mayors_and_who_answers_for_the_content(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = _text(client, "/de/impressum")
    for fact in (
        "Stadt Verl",
        "Stadt Schloß Holte-Stukenbrock",
        "Körperschaft des öffentlichen Rechts",
        "Vertreten durch den Bürgermeister Robin Rieksneuwöhner",
        "Vertreten durch den Bürgermeister Olaf Junker",
        "§ 18 Abs. 2 MStV",
        "öffentlich-rechtlichen Vereinbarung",
        "seit 2023",
        "finanziert",
        "Kreises Gütersloh",
        "Bezirksregierung Detmold",
        VERL_PHONE,
        SHS_PHONE,
        "https://www.schlossholtestukenbrock.de",
        "soziales-duo@example.org",
    ):
        assert fact in html, fact
    assert "Förderung" not in html and "Umsatzsteuer" not in html
    monkeypatch.setattr(impressum, "RESPONSIBLE_NAME", "Erika Beispiel")
    monkeypatch.setattr(impressum, "MAYOR_SHS", "")
    html = _text(client, "/de/impressum")
    assert "Erika Beispiel" in html
    assert "Vertreten durch die Bürgermeisterin oder den Bürgermeister" in html


def test_a_town_corrected_in_the_staff_area_shows_on_impressum_and_statement(
    app: Flask, client: FlaskClient
) -> None:
    with get_db(app).session() as session:
        shs = session.scalars(select(Town).where(Town.slug == "shs")).one()
        verl = session.scalars(select(Town).where(Town.slug == "verl")).one()
        shs.phone = "05207 8905-111"
        verl.phone, verl.street = "05246 961-222", "Paderborner Straße 7"
    impressum_html = _text(client, "/de/impressum")
    assert "05207 8905-111" in impressum_html and 'href="tel:052078905111"' in impressum_html
    assert SHS_PHONE not in impressum_html
    assert "Paderborner Straße 7" in impressum_html and "Paderborner Straße 5" not in impressum_html
    for url in ("/de/barrierefreiheit", "/ls/barrierefreiheit"):
        html = _text(client, url)
        assert "Paderborner Straße 7" in html and "Paderborner Straße 5" not in html, url
        assert 'href="tel:05246961222"' in html and VERL_PHONE not in html, url


def test_the_phone_of_schloss_holte_stukenbrock_is_on_home_and_error_pages(
    client: FlaskClient,
) -> None:
    home = _text(client, "/de/")
    assert SHS_PHONE in home and VERL_PHONE in home
    for lang in ("de", "ar"):
        missing = client.get(f"/{lang}/no-such-page")
        assert missing.status_code == 404
        html = missing.get_data(as_text=True)
        assert SHS_PHONE in html and VERL_PHONE in html
    refused = client.post("/de/request/", data={})
    assert refused.status_code == 400 and SHS_PHONE in refused.get_data(as_text=True)


def test_the_rate_limit_page_names_both_phones(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "ratelimit_disabled": False, "rate_limit_submit": "1 per hour"})
    client = app.test_client()
    codes = [post_form(client, "/de/barrierefreiheit", {"message": "Kontrast"}) for _ in range(2)]
    get_db(app).engine.dispose()
    assert codes[-1].status_code == 429
    html = codes[-1].get_data(as_text=True)
    assert "Rathaus Schloß Holte-Stukenbrock" in html and SHS_PHONE in html and VERL_PHONE in html


def test_the_error_page_names_both_phones_when_the_database_is_down(
    app_config: dict[str, Any], tmp_path: Path
) -> None:
    unreachable = f"sqlite:///{tmp_path}/no-such-directory/portal.db"
    app = create_app({**app_config, "database_url": unreachable})
    response = app.test_client().get("/de/")
    get_db(app).engine.dispose()
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Ein Fehler ist aufgetreten" in html
    assert "Verl und Schloß Holte-Stukenbrock" in html
    assert SHS_PHONE in html and VERL_PHONE in html


def test_seeding_fills_a_blank_phone_and_keeps_an_edited_one(app: Flask) -> None:
    with get_db(app).session() as session:
        shs = session.scalars(select(Town).where(Town.slug == "shs")).one()
        verl = session.scalars(select(Town).where(Town.slug == "verl")).one()
        shs.phone, shs.website = "", ""
        verl.phone = "05246 961-123"
    with get_db(app).session() as session:
        towns.seed_towns(session, settings_of(app).towns())
    with get_db(app).session() as session:
        shs = session.scalars(select(Town).where(Town.slug == "shs")).one()
        verl = session.scalars(select(Town).where(Town.slug == "verl")).one()
        assert shs.phone == SHS_PHONE and shs.website == "https://www.schlossholtestukenbrock.de"
        assert verl.phone == "05246 961-123"
