"""The privacy notice: complete under Art. 13/14 and 26 DSGVO, true to the settings, in every language."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.config import ConfigError, settings_of
from portal.db import get_db
from portal.legal.privacy import LDI_NRW, NOTICE_DATE, NOTICE_VERSION, privacy_facts, whole_years


def _text(client: FlaskClient, path: str) -> str:
    """The page's visible text, tags removed and whitespace folded."""
    response = client.get(path)
    assert response.status_code == 200, path
    body = response.get_data(as_text=True)
    body = body[body.index("<main") :]
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture
def custom_app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """The portal with periods and privacy facts of its own."""
    application = create_app(
        {
            **app_config,
            "retention_days_request": 77,
            "retention_days_unclosed": 222,
            "retention_days_booking": 11,
            "retention_days_audit": 444,
            "retention_days_outbox": 21,
            "draft_hours": 33,
            "private_link_days": 17,
            "resident_link_days": 19,
            "resident_idle_minutes": 23,
            "security_log_days": 55,
            "server_log_days": 5,
            "privacy_notice_version": "2027-02-b",
            "privacy_notice_date": "2027-02-14",
            "dpo_email_verl": "dsb@verl.example.org",
            "dpo_email_shs": "dsb@shs.example.org",
            "dpo_phone_shs": "05207 8905-999",
        }
    )
    yield application
    get_db(application).engine.dispose()


def test_the_notice_names_both_controllers_their_officers_and_the_authority(
    client: FlaskClient,
) -> None:
    text = _text(client, "/de/datenschutz")
    assert "gemeinsam für dieses Portal verantwortlich (Art. 26 DSGVO)" in text
    for town, street in (
        ("Verl", "Paderborner Straße 5 33415 Verl"),
        ("Schloß Holte-Stukenbrock", "Rathausstraße 2 33758 Schloß Holte-Stukenbrock"),
    ):
        assert f"Stadt {town} {street}" in text
        assert f"Datenschutzbeauftragte Person der Stadt {town} {street}" in text
    assert "05246 961-0" in text and "05207 8905-0" in text
    assert "Was die Städte vereinbart haben" in text
    assert "an jede der Städte wenden" in text
    for fact in (LDI_NRW.name, LDI_NRW.street, LDI_NRW.postcode_city, LDI_NRW.phone, LDI_NRW.email):
        assert fact in text, fact


def test_the_notice_covers_every_processing_with_its_legal_basis(client: FlaskClient) -> None:
    text = _text(client, "/de/datenschutz")
    for heading in (
        "Anfrage um Hilfe",
        "Termin buchen",
        "Rückmeldung zur Barrierefreiheit",
        "E-Mails",
        "Private Links",
        "Cookies",
        "Schutz vor Missbrauch und Protokolle",
        "Wenn jemand für eine andere Person fragt",
        "Wer Ihre Angaben sieht",
        "Müssen Sie Angaben machen?",
        "Ihre Rechte",
    ):
        assert heading in text, heading
    for fact in (
        "Art. 6 Abs. 1 Buchstabe e DSGVO mit § 3 DSG NRW",
        "§ 35 SGB I",
        "§§ 67a bis 67c SGB X",
        "Art. 9 Abs. 2 Buchstabe h DSGVO mit § 16 Abs. 1 Nr. 3 DSG NRW",
        "§ 25 Abs. 2 Nr. 2 TDDDG",
        "Kalenderdatei (.ics)",
        "Auftragsverarbeitung, Art. 28 DSGVO",
        "Dolmetschende",
        "keine Daten in Länder außerhalb der Europäischen Union",
        "keine automatisierten Entscheidungen",
        "Art. 7 Abs. 3 DSGVO",
        "Widerspruch (Art. 21 DSGVO)",
        "Datenübertragbarkeit (Art. 20 DSGVO) gilt hier nicht",
        "Art. 14 DSGVO",
        "verschlüsselt (S/MIME)",
        "nur, wenn Ihre Stadt das so eingestellt hat",
    ):
        assert fact in text, fact
    # The cookie holds keys and tokens, not the answers; consent is not the basis.
    assert "Ihre Antworten sind nicht darin" in text
    assert "Art. 6 Abs. 1 Buchstabe a" not in text


def test_the_notice_states_the_configured_periods_and_facts(custom_app: Flask) -> None:
    text = _text(custom_app.test_client(), "/de/datenschutz")
    for sentence in (
        "Ihre Anfrage löschen wir 77 Tage nach dem Abschluss",
        "löschen wir 222 Tage nach dem letzten Schritt",
        "Kontaktdaten zu einem Termin löschen wir 11 Tage nach dem Termin",
        "wer eine Anfrage angesehen oder geändert hat, löschen wir nach 444 Tagen",
        "Versendete E-Mails löschen wir nach 21 Tagen",
        "an wen und wann, nach 21 Tagen",
        "nach 33 Stunden",
        "bis 17 Tage nach dem Abschluss der Anfrage",
        "Nachricht des Teams gilt 19 Tage",
        "Nach 23 Minuten ohne Seitenaufruf",
        "Das Sicherheitsprotokoll löschen wir nach 55 Tagen",
        "Das Protokoll des Webservers wird nach 5 Tagen gelöscht",
        "Stand: 14. Februar 2027. Fassung: 2027-02-b",
        "dsb@verl.example.org",
        "dsb@shs.example.org",
        "05207 8905-999",
    ):
        assert sentence in text, sentence


RECEIPT_STAYS = (
    "Die Eingangsbestätigung bleibt, bis ihre eigene Frist endet: "
    "Nummer, Tag und Uhrzeit des Eingangs und die Stadt."
)


def test_the_notice_names_the_receipt_and_that_it_outlives_the_request(
    client: FlaskClient,
) -> None:
    text = _text(client, "/de/datenschutz")
    section = text[text.index("Eingangsbestätigung Wozu") : text.index("Termin buchen Wozu")]
    for fact in (
        "an welchem Tag Sie uns zuerst um Hilfe gefragt haben",
        "ab diesem Tag bewilligt wird",
        "Die Nummer der Anfrage, Tag und Uhrzeit des Eingangs, die zuständige Stadt und der Prüfcode",
        "Wie bei der Anfrage um Hilfe.",
        # The default 1096 days always last three whole years.
        "Die Eingangsbestätigung löschen wir 3 Jahre nach dem Eingang der Anfrage.",
        "zum Beispiel auf Ihren Wunsch",
    ):
        assert fact in section, fact
    # The sentences that promised everything goes now say the receipt stays.
    assert "Nur anonyme Zahlen" not in text
    assert text.count(RECEIPT_STAYS) == 3
    for promise in (
        "sofort löschen lassen.",
        "was Sie uns geschrieben haben.",
        "Statistik bleiben.",
    ):
        assert f"{promise} {RECEIPT_STAYS}" in text, promise


@pytest.mark.parametrize(
    ("days", "german", "easy"),
    [
        (731, "löschen wir 2 Jahre nach dem Eingang", "Das speichern wir 2 Jahre lang."),
        (366, "löschen wir 1 Jahr nach dem Eingang", "Das speichern wir 1 Jahr lang."),
        (365, "löschen wir 365 Tage nach dem Eingang", "Das speichern wir 365 Tage lang."),
        (1, "löschen wir 1 Tag nach dem Eingang", "Das speichern wir 1 Tag lang."),
    ],
)
def test_the_receipts_period_follows_the_setting(
    app_config: dict[str, Any], days: int, german: str, easy: str
) -> None:
    application = create_app({**app_config, "retention_days_receipt": days})
    try:
        client = application.test_client()
        assert f"Die Eingangsbestätigung {german} der Anfrage." in _text(client, "/de/datenschutz")
        text = _text(client, "/ls/datenschutz")
        assert easy in text
        assert (
            "Vielleicht ist Ihre Anfrage schon gelöscht. Die Bestätigung bleibt trotzdem." in text
        )
    finally:
        get_db(application).engine.dispose()


def test_the_easy_notice_says_the_receipt_stays_three_years(client: FlaskClient) -> None:
    text = _text(client, "/ls/datenschutz")
    assert "die Nummer von Ihrer Anfrage, den Tag und die Stadt." in text
    assert "Das speichern wir 3 Jahre lang." in text


def test_whole_years_are_only_named_when_they_never_fall_short() -> None:
    assert [whole_years(days) for days in (366, 731, 1096, 1461, 3653)] == [1, 2, 3, 4, 10]
    assert [whole_years(days) for days in (1, 364, 365, 730, 1095, 1097)] == [0] * 6


def test_the_default_facts_come_from_the_legal_module(app: Flask, client: FlaskClient) -> None:
    settings = settings_of(app)
    facts = privacy_facts(settings)
    assert settings.privacy_notice_version == NOTICE_VERSION == facts.version
    assert facts.as_of == NOTICE_DATE
    text = _text(client, "/de/datenschutz")
    assert f"Fassung: {NOTICE_VERSION}" in text
    assert "Stand: 3. Dezember 2026" in text


def test_a_notice_date_that_is_no_date_is_refused_at_start(app_config: dict[str, Any]) -> None:
    for wrong in ({"privacy_notice_date": "Dezember"}, {"server_log_days": 0}):
        with pytest.raises(ConfigError):
            create_app({**app_config, **wrong})


def test_the_version_confirmed_with_a_request_is_the_one_the_notice_shows(
    custom_app: Flask,
) -> None:
    from sqlalchemy import select

    from portal.models import HelpRequest
    from tests.conftest import answer_all, submit

    client = custom_app.test_client()
    answer_all(client)
    submit(client)
    shown = privacy_facts(settings_of(custom_app)).version
    with get_db(custom_app).session() as session:
        assert session.scalars(select(HelpRequest)).one().privacy_version == shown


# A heading of the notice in each language: the page is translated, not left in German.
HEADINGS = {
    "en": "What the towns have agreed",
    "tr": "Şehirlerin aralarında kararlaştırdıkları",
    "ar": "ما اتفقت عليه المدن",
    "ru": "О чём договорились города",
    "uk": "Про що домовилися міста",
    "pl": "Co uzgodniły miasta",
    "ro": "Ce au convenit orașele",
    "bg": "Какво са договорили градовете",
}
GERMAN_ONLY = ("Was wir wofür speichern", "Rechtsgrundlage", "Was die Städte vereinbart haben")


@pytest.mark.parametrize("lang", sorted(HEADINGS))
def test_the_notice_is_translated_into_every_language(client: FlaskClient, lang: str) -> None:
    text = _text(client, f"/{lang}/datenschutz")
    assert HEADINGS[lang] in text
    for german in GERMAN_ONLY:
        assert german not in text, german
    assert LDI_NRW.email in text and "05246 961-0" in text


def test_leichte_sprache_has_its_own_privacy_page_with_the_phone_numbers(
    client: FlaskClient,
) -> None:
    response = client.get("/ls/datenschutz")
    page = response.get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in page
    text = _text(client, "/ls/datenschutz")
    assert "Daten·schutz" in text
    for number in ("05246 961-0", "05207 8905-0", LDI_NRW.phone):
        assert number in text, number
    assert 'href="/de/datenschutz"' in page
    # One statement per line: short sentences, each line of the page at most 12 words.
    main = page[page.index("<main") : page.index("</main>")]
    lines = re.split(r"<br>|</p>|</li>|</h\d>|[.!?:]\s", main)
    words = [len(re.sub(r"<[^>]+>", " ", line).split()) for line in lines]
    assert max(words) <= 12, max(words)


def test_the_facts_follow_the_towns_in_the_settings(app: Flask) -> None:
    facts = privacy_facts(settings_of(app))
    assert [c.town for c in facts.controllers] == ["Verl", "Schloß Holte-Stukenbrock"]
    assert all(c.officer.street == c.contact.street for c in facts.controllers)
    assert isinstance(facts.as_of, date)


def test_a_town_phone_corrected_by_staff_shows_in_the_notice(
    app: Flask, client: FlaskClient
) -> None:
    from sqlalchemy import select

    from portal.models import Town

    with get_db(app).session() as session:
        town = session.scalars(select(Town).where(Town.slug == "shs")).one()
        town.phone = "05207 8905-123"
        session.commit()
    assert "Stadt Schloß Holte-Stukenbrock Rathausstraße 2" in _text(client, "/de/datenschutz")
    assert "05207 8905-123" in _text(client, "/de/datenschutz")
    assert "05207 8905-123" in _text(client, "/ls/datenschutz")
