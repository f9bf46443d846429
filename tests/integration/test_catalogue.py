"""Residents find help in the catalogue in their own language, and ask about an offer."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text, update

from portal import db
from portal.db import get_db
from portal.i18n import CONTENT_LANGUAGES
from portal.models import HelpRequest, Town
from portal.services import catalogue_search
from tests import catalogue_data
from tests.catalogue_data import CARE, GERMAN_ONLY, HOUSEHOLD, TRANSPORT
from tests.conftest import Mailbox, answer_all, deliver, post_form, submit
from tests.expect import match_in


@pytest.fixture
def loaded(app: Flask) -> Flask:
    catalogue_data.load(app)
    return app


def _found(client: FlaskClient, lang: str, query: str, **filters: str) -> list[str]:
    response = client.get(f"/{lang}/catalogue/", query_string={"q": query, **filters})
    assert response.status_code == 200
    return re.findall(r'/catalogue/service/([0-9a-f-]{36})"', response.get_data(as_text=True))


def test_german_search_tolerates_inflection_and_case(loaded: Flask, client: FlaskClient) -> None:
    assert _found(client, "de", "Pflege")[0] == CARE  # "Pflegedienst", "ambulante Pflege"
    assert _found(client, "de", "ambulante pflege") == [CARE]
    assert _found(client, "de", "fahrdienst") == [TRANSPORT]  # finds "Fahrdienste"
    assert _found(client, "de", "FAHRDIENSTE") == [TRANSPORT]
    assert _found(client, "de", "Haushaltshilfen") == [HOUSEHOLD]


def test_search_in_turkish_arabic_and_russian_finds_their_own_text(
    loaded: Flask, client: FlaskClient
) -> None:
    assert _found(client, "tr", "bakım") == [CARE]
    assert _found(client, "tr", "bakim") == [CARE]  # typed without the dotless i
    assert _found(client, "ar", "الرعاية") == [CARE]
    assert _found(client, "ar", "رعاية") == [CARE]  # without the article
    assert _found(client, "ru", "помощь") == [HOUSEHOLD]  # "Помощь по хозяйству"
    assert _found(client, "ru", "помощи") == [HOUSEHOLD]  # another case of the same word


def _statements_of_searches(loaded: Flask, client: FlaskClient, marker: str) -> list[str]:
    """The full-text statement each content language's search for "Pflege" sent."""
    engine = get_db(loaded).engine
    sent: list[str] = []

    def remember(_c: object, _cursor: object, statement: str, *_: object) -> None:
        if marker in statement and "LIMIT" in statement:  # the page, not a separate count
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        for lang in CONTENT_LANGUAGES:
            found = client.get(f"/{lang}/catalogue/", query_string={"q": "Pflege"})
            assert found.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return sent


def test_each_language_is_searched_in_an_index_of_its_own(
    loaded: Flask, client: FlaskClient
) -> None:
    """Migration 0016: on PostgreSQL a partial index per language, which a plan made once for
    every search (a prepared statement) can only use when the statement itself names the
    language; on SQLite an FTS5 table per language, kept in step by triggers."""
    dialect = get_db(loaded).engine.dialect.name
    if dialect == "postgresql":
        sent = _statements_of_searches(loaded, client, "search_vector")
        for lang, statement in zip(CONTENT_LANGUAGES, sent, strict=True):
            assert f"lang = '{lang}'" in statement
        with loaded.app_context():
            indexes = db.session().execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :table"),
                {"table": "catalogue_search_document"},
            )
            partial = {name: definition for name, definition in indexes}
        for lang in CONTENT_LANGUAGES:
            definition = partial[f"fts_catalogue_search_document_{lang}"]
            assert "gin (search_vector)" in definition
            assert definition.endswith(f"WHERE ((lang)::text = '{lang}'::text)")
        return
    sent = _statements_of_searches(loaded, client, " MATCH ")
    for lang, statement in zip(CONTENT_LANGUAGES, sent, strict=True):
        assert f"catalogue_search_fts_{lang} MATCH" in statement
    # The triggers follow a document from one language's table to another's.
    with loaded.app_context():
        session = db.session()

        def found(lang: str, word: str) -> list[int]:
            return list(
                session.scalars(
                    text(f"SELECT rowid FROM catalogue_search_fts_{lang} WHERE title MATCH :w"),
                    {"w": word},
                )
            )

        document = session.scalars(
            text("SELECT id FROM catalogue_search_document WHERE lang = 'en' LIMIT 1")
        ).one()
        session.execute(
            text("UPDATE catalogue_search_document SET title = 'zyxwort' WHERE id = :id"),
            {"id": document},
        )
        assert found("en", "zyxwort") == [document] and found("de", "zyxwort") == []
        session.execute(
            text(
                "DELETE FROM catalogue_search_document WHERE lang = 'bg' AND service_id = "
                "(SELECT service_id FROM catalogue_search_document WHERE id = :id)"
            ),
            {"id": document},
        )
        session.execute(
            text("UPDATE catalogue_search_document SET lang = 'bg' WHERE id = :id"),
            {"id": document},
        )
        assert found("en", "zyxwort") == [] and found("bg", "zyxwort") == [document]
        session.execute(
            text("DELETE FROM catalogue_search_document WHERE id = :id"), {"id": document}
        )
        assert found("bg", "zyxwort") == []
        session.rollback()


def test_a_provider_named_only_in_another_language_is_still_named_in_the_list(
    loaded: Flask, client: FlaskClient
) -> None:
    with loaded.app_context(), get_db(loaded).session() as session:
        session.execute(text("DELETE FROM catalogue_organization_text WHERE lang = 'de'"))
    page = client.get("/tr/catalogue/", query_string={"topic": "care"}).get_data(as_text=True)
    assert '<p class="muted" lang="en">Welfare Example (Demo)</p>' in page


def test_the_language_menu_keeps_a_topic_page_and_leaves_a_search_behind(
    loaded: Flask, client: FlaskClient
) -> None:
    topic_page = client.get("/de/catalogue/?topic=care").get_data(as_text=True)
    assert 'href="/ar/catalogue/?topic=care" lang="ar"' in topic_page
    search = client.get("/de/catalogue/?q=Pflege&topic=care").get_data(as_text=True)
    assert 'href="/ar/catalogue/" lang="ar"' in search  # what someone searched for stays here
    elsewhere = client.get("/de/request/?topic=care").get_data(as_text=True)
    assert 'href="/ar/request/" lang="ar"' in elsewhere  # a topic page is the catalogue's only


def test_diacritics_do_not_matter(loaded: Flask, client: FlaskClient) -> None:
    assert _found(client, "de", "Rollstuhl") == [TRANSPORT]
    assert _found(client, "de", "fur menschen im rollstuhl") == [TRANSPORT]  # "für"


def test_a_name_match_ranks_above_a_mention(loaded: Flask) -> None:
    with loaded.app_context(), get_db(loaded).session() as session:
        # "Pflege" is in the care service's name; the transport service mentions it more often.
        assert catalogue_search.search(session, "de", "Pflege").service_ids == [CARE, TRANSPORT]
        # No service has both words: every word must match, else any word may.
        either = catalogue_search.search(session, "de", "Pflegedienst Entlastungsbetrag")
        assert set(either.service_ids) == {CARE, HOUSEHOLD}


def test_filters_by_topic_town_and_language(loaded: Flask, client: FlaskClient) -> None:
    assert set(_found(client, "de", "", town="shs")) == {TRANSPORT, HOUSEHOLD}
    assert set(_found(client, "de", "", language="ru")) == {HOUSEHOLD}
    assert _found(client, "de", "", topic="benefits") == [GERMAN_ONLY]
    assert _found(client, "de", "Hilfe", town="verl", language="ru") == [HOUSEHOLD]


def test_the_filters_are_offered_in_the_readers_language(client: FlaskClient) -> None:
    for lang, first, spoken in [
        ("de", "Alle Themen", ">Türkisch<"),
        ("tr", "Tüm konular", ">Türkçe<"),
        ("de", "Alle Themen", ">Türkisch<"),  # the labels kept per language, not the last one
        ("en", "All topics", ">Turkish<"),
    ]:
        html = client.get(f"/{lang}/catalogue/?topic=care").get_data(as_text=True)
        assert f'<option value="">{first}</option>' in html
        assert '<option selected value="care">' in html and spoken in html


def test_an_unknown_filter_gets_a_message_and_is_ignored(
    loaded: Flask, client: FlaskClient
) -> None:
    response = client.get("/en/catalogue/", query_string={"topic": "<script>", "q": "care"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "error-summary" in html and "<script>" not in html
    assert CARE in html


def test_nothing_found_offers_to_ask_the_soziales_duo(loaded: Flask, client: FlaskClient) -> None:
    response = client.get("/de/catalogue/", query_string={"q": "Zahnarztbohrer"})
    html = response.get_data(as_text=True)
    assert "0 Angebote gefunden" in html
    assert 'action="/de/request/' in html and "Das Soziale Duo fragen" in html


def test_results_are_paginated(app: Flask, client: FlaskClient) -> None:
    data = catalogue_data.dataset()
    template = data["services"][1]
    data["services"] = [
        {
            **template,
            "id": catalogue_data.uid("many", str(i)),
            "name": f"Fahrdienst Nummer {i:02d}",
            "attributes": [
                {
                    "id": catalogue_data.uid("many-attr", str(i)),
                    "taxonomy_term_id": template["attributes"][0]["taxonomy_term_id"],
                }
            ],
            "service_areas": [],
            "languages": [],
            "translations": {},
        }
        for i in range(23)
    ]
    catalogue_data.load(app, data)
    first = client.get("/de/catalogue/?q=Fahrdienst").get_data(as_text=True)
    assert "23 Angebote gefunden" in first and "Seite 1 von 3" in first
    assert "Fahrdienst Nummer 00" in first and "Fahrdienst Nummer 10" not in first
    third = client.get("/de/catalogue/?q=Fahrdienst&page=3").get_data(as_text=True)
    assert "Fahrdienst Nummer 22" in third and 'rel="next"' not in third


def test_a_service_missing_a_language_shows_german_with_a_note(
    loaded: Flask, client: FlaskClient
) -> None:
    html = client.get(f"/en/catalogue/service/{GERMAN_ONLY}").get_data(as_text=True)
    assert '<h1 lang="de">Wohngeldberatung im Rathaus</h1>' in html
    assert "This service is not yet available in your language" in html
    translated = client.get(f"/en/catalogue/service/{CARE}").get_data(as_text=True)
    assert "<h1>Home care service Sunshine</h1>" in translated
    assert "not yet available in your language" not in translated


def test_detail_page_has_every_fact_in_the_readers_language(
    loaded: Flask, client: FlaskClient
) -> None:
    html = client.get(f"/en/catalogue/service/{CARE}").get_data(as_text=True)
    assert "Monday–Friday" in html and re.search(r"8:00\sAM–12:30\sPM", html)
    assert 'href="tel:02214710201"' in html
    assert 'href="mailto:pflege@beispiel.example"' in html
    assert "https://www.openstreetmap.org/search?query=Beispielweg%2012%2C%2033415%20Verl" in html
    assert "Step-free entrance." in html
    assert "Turkish" in html and "Verl" in html
    assert "<iframe" not in html and "<script" not in html
    german = client.get(f"/de/catalogue/service/{CARE}").get_data(as_text=True)
    assert "Montag–Freitag" in german and "08:00–12:30" in german
    arabic = client.get(f"/ar/catalogue/service/{CARE}").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "خدمة الرعاية المنزلية" in arabic


def test_unknown_or_malformed_service_is_not_found(loaded: Flask, client: FlaskClient) -> None:
    assert client.get("/de/catalogue/service/nope").status_code == 404
    assert client.get(f"/de/catalogue/service/{catalogue_data.uid('x')}").status_code == 404


def test_ask_about_this_starts_a_request_with_topic_and_offer(
    loaded: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    page = client.get(f"/de/catalogue/service/{CARE}").get_data(as_text=True)
    # A first visit has no session: the offer's page is the same for everyone, without a form
    # token, and leads to the request's start page with topic and offer.
    assert 'name="csrf_token"' not in page
    start = match_in(r'<div class="ask">\s*<p><a class="button" href="([^"]+)"', page).group(1)
    start_page = client.get(start.replace("&amp;", "&")).get_data(as_text=True)
    assert (
        "Sie fragen zu diesem Angebot: <strong>Ambulanter Pflegedienst Sonnenschein" in start_page
    )
    action = match_in(r'<form method="post" action="([^"]+)">', start_page).group(1)
    assert CARE in action and "topic=" in action
    token = match_in(r'name="csrf_token" value="([^"]+)"', start_page).group(1)
    response = client.post(action.replace("&amp;", "&"), data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/de/request/who")
    topics_page = client.get("/de/request/topics").get_data(as_text=True)
    assert re.search(r'value="care"[^>]*checked|checked[^>]*value="care"', topics_page)

    answer_all_keep_draft(client)
    check = client.get("/de/request/check").get_data(as_text=True)
    assert "Ambulanter Pflegedienst Sonnenschein" in check
    submit(client)
    with loaded.app_context(), get_db(loaded).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        assert request.catalogue_service_id == CARE
    deliver(loaded)
    staff_mail = mailbox.to("soziales-duo-shs@example.org")[0].as_string()
    assert "Sonnenschein" not in staff_mail  # the offer can reveal health data: not in email


def test_the_start_page_names_the_offer_in_the_readers_language_or_marks_it_german(
    loaded: Flask, client: FlaskClient
) -> None:
    english = client.get(f"/en/request/?service={GERMAN_ONLY}&topic=money").get_data(as_text=True)
    assert 'You are asking about this service: <strong lang="de">Wohngeldberatung' in english
    for unknown in ("00000000-0000-0000-0000-000000000000", "x", ""):
        page = client.get(f"/en/request/?service={unknown}").get_data(as_text=True)
        assert "You are asking about this service" not in page


def answer_all_keep_draft(client: FlaskClient) -> None:
    """Answer every question of the draft the catalogue started (without starting over)."""
    from tests.conftest import FULL_ANSWERS

    for step, data in FULL_ANSWERS:
        if step == "topics":
            data = {"topics": ["care"]}
        response = post_form(client, f"/de/request/{step}", data)
        assert response.status_code == 302, step


def test_asking_about_an_offer_keeps_a_request_already_under_way(
    loaded: Flask, client: FlaskClient
) -> None:
    answer_all(client)
    page = client.get(f"/de/catalogue/service/{TRANSPORT}").get_data(as_text=True)
    action = match_in(r'<form method="post" action="([^"]+)" class="ask">', page).group(1)
    token = match_in(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(action.replace("&amp;", "&"), data={"csrf_token": token})
    assert response.headers["Location"].endswith("/de/request/check")
    check = client.get("/de/request/check").get_data(as_text=True)
    assert "GEHEIMER-TEXT" in check  # what was written before is still there
    assert "Fahrdienste für Menschen im Rollstuhl" in check


def test_home_page_leads_to_the_catalogue(loaded: Flask, client: FlaskClient) -> None:
    html = client.get("/tr/").get_data(as_text=True)
    assert 'href="/tr/catalogue/"' in html


def test_browsing_does_not_wait_for_a_write_in_progress(loaded: Flask, client: FlaskClient) -> None:
    with get_db(loaded).sessions() as writer:
        # An open transaction that has written (on SQLite it holds the database's write lock).
        writer.execute(update(Town).values(website=Town.website))
        started = time.monotonic()
        assert _found(client, "de", "Pflege")[0] == CARE
        assert client.get(f"/de/catalogue/service/{CARE}").status_code == 200
        assert client.get("/de/").status_code == 200
        assert time.monotonic() - started < 5
        writer.rollback()


def test_readers_of_leichte_sprache_search_and_read_the_german_offers(
    loaded: Flask, client: FlaskClient
) -> None:
    assert _found(client, "ls", "Pflege")[0] == CARE  # searched in German
    assert _found(client, "ls", "fahrdienst") == [TRANSPORT]
    html = client.get(f"/ls/catalogue/service/{CARE}").get_data(as_text=True)
    assert '<body class="easy-read">' in html and '<h1 lang="de">' in html
    assert "Türkisch" in html, "languages are named in German, not as codes"
    assert re.search(r"Montag–Freitag", html)
