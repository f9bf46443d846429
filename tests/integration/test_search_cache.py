"""Pages of search results come from a cache per process: the same answer, fresh after a change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, update

from portal import create_app
from portal.db import get_db
from portal.models import Service, ServiceText
from portal.services import catalogue_results, catalogue_search
from portal.services.catalogue_results import CachedSearch
from portal.services.search_cache import ResultCache
from portal.views import SEARCH_CACHE
from tests import catalogue_data
from tests.catalogue_data import CARE, GERMAN_ONLY, TRANSPORT
from tests.conftest import clean


def _results(client: FlaskClient, url: str) -> str:
    """The list of results of a catalogue page, or its "nothing found" note."""
    html = client.get(url).get_data(as_text=True)
    found = re.search(r'<section aria-labelledby="results-title">.*?</section>', html, re.S)
    assert found, url
    return found.group(0)


def _cache(app: Flask) -> ResultCache[Any]:
    cache: ResultCache[Any] = app.extensions[SEARCH_CACHE]
    return cache


def test_a_repeated_search_is_answered_from_the_cache_with_the_same_page(
    app: Flask, client: FlaskClient
) -> None:
    catalogue_data.load(app)
    first = _results(client, "/de/catalogue/?q=Pflege")
    misses = _cache(app).misses
    again = _results(client, "/de/catalogue/?q=PFLEGE")  # the same words as the search reads them
    assert _cache(app).misses == misses, "nothing was computed again"
    assert again == first
    assert first.index(CARE) < first.index(TRANSPORT)  # the name match still ranks first


def test_a_cached_page_equals_one_computed_afresh(app: Flask) -> None:
    catalogue_data.load(app)
    with app.app_context(), get_db(app).session() as session:
        for lang, shown, query in [("de", "de", "Pflege"), ("tr", "tr", "bakım"), ("de", "en", "")]:
            fresh = CachedSearch(session, ResultCache(0)).summary_page(lang, shown, query)
            cache: ResultCache[object] = ResultCache(10)
            CachedSearch(session, cache).summary_page(lang, shown, query)
            assert CachedSearch(session, cache).summary_page(lang, shown, query) == fresh
            assert cache.hits == 1
            ranked = CachedSearch(session, cache).ranked(lang, query)
            assert ranked == catalogue_search.search(session, lang, query)


def test_the_list_shows_german_text_marked_as_german_when_a_language_lacks(
    app: Flask, client: FlaskClient
) -> None:
    catalogue_data.load(app)
    for _ in range(2):  # computed, then from the cache
        html = _results(client, "/en/catalogue/?topic=benefits")
        assert f'/catalogue/service/{GERMAN_ONLY}" lang="de">Wohngeldberatung im Rathaus' in html
        assert 'class="fallback-note"' in html


def test_a_change_to_the_catalogue_shows_at_once_on_the_page_and_in_the_api(
    app: Flask, client: FlaskClient
) -> None:
    catalogue_data.load(app)
    api = "/api/hsds/services?search=Pflege"
    assert CARE in _results(client, "/de/catalogue/?q=Pflege")
    assert CARE in client.get(api).get_data(as_text=True)
    with app.app_context(), get_db(app).session() as session:
        session.execute(update(Service).where(Service.id == CARE).values(status="inactive"))
    assert CARE not in _results(client, "/de/catalogue/?q=Pflege")
    assert CARE not in client.get(api).get_data(as_text=True)


def test_a_renamed_service_shows_its_new_name_in_the_list(app: Flask, client: FlaskClient) -> None:
    catalogue_data.load(app)
    assert "Ambulanter Pflegedienst Sonnenschein" in _results(client, "/de/catalogue/?q=Pflege")
    with app.app_context(), get_db(app).session() as session:
        session.execute(
            update(ServiceText)
            .where(ServiceText.service_id == CARE, ServiceText.lang == "de")
            .values(name="Pflegedienst Abendrot")
        )
    page = _results(client, "/de/catalogue/?q=Pflege")
    assert "Pflegedienst Abendrot" in page and "Sonnenschein" not in page


def test_the_cache_holds_no_more_pages_than_configured(app_config: dict[str, Any]) -> None:
    application = create_app({**app_config, "search_cache_entries": 2})
    clean(application)
    try:
        catalogue_data.load(application)
        client = application.test_client()
        for query in ("Pflege", "Fahrdienst", "Haushaltshilfe", "Wohngeld"):
            assert "Angebot" in _results(client, f"/de/catalogue/?q={query}")
        assert len(_cache(application)) == 2
        assert TRANSPORT in _results(client, "/de/catalogue/?q=Fahrdienst")
    finally:
        get_db(application).engine.dispose()


def test_a_listing_counts_once_and_every_page_says_the_same_total(
    app: Flask, client: FlaskClient
) -> None:
    catalogue_data.load(app)

    def total(page: int) -> int:
        answer = client.get(f"/api/hsds/services?per_page=1&page={page}").get_json()
        assert answer["size"] == (1 if page <= 4 else 0)
        return int(answer["total_items"])

    assert [total(page) for page in (1, 2, 5)] == [4, 4, 4]
    with app.app_context(), get_db(app).session() as session:
        session.execute(update(Service).where(Service.id == CARE).values(status="defunct"))
    assert [total(page) for page in (1, 3)] == [3, 3]


def _listing(client: FlaskClient, lang: str, per_page: int, page: int) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(
        f"/api/hsds/services?lang={lang}&per_page={per_page}&page={page}"
    ).get_json()
    return answer


def test_paging_through_a_listing_shows_every_service_once_in_name_order(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue_data.load(app)
    whole = _listing(client, "de", 50, 1)
    names = [record["name"] for record in whole["contents"]]
    assert names == sorted(names) and len(names) == whole["total_items"] == 4
    # Pages 1 and 2 are read as pages, pages 3 to 5 are slices of the listing read whole:
    # where one way ends the other must go on.
    monkeypatch.setattr(catalogue_results, "SHALLOW", 2)
    paged = [_listing(client, "de", 1, page) for page in range(1, 6)]
    assert [record["id"] for page in paged for record in page["contents"]] == [
        record["id"] for record in whole["contents"]
    ]
    assert paged[-1]["contents"] == [] and paged[-1]["total_items"] == 4  # past the end


def test_a_listing_is_read_whole_once_past_its_first_pages_and_then_sliced(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue_data.load(app)
    monkeypatch.setattr(catalogue_results, "SHALLOW", 1)  # 4 services: the first one is shallow
    asked: list[str] = []
    event.listen(get_db(app).engine, "before_cursor_execute", lambda *a: asked.append(a[2]))

    def searches() -> int:
        return len([sql for sql in asked if "catalogue_search_document" in sql])

    first = _listing(client, "de", 1, 1)
    assert first["size"] == 1 and searches() == 2  # the count and the page
    _listing(client, "de", 1, 2)  # past the first page: the whole listing, once
    read = searches()
    third = _listing(client, "de", 1, 3)
    again = _listing(client, "de", 1, 1)
    assert searches() == read, "later pages are slices of the listing"
    assert third["size"] == 1 and third["total_items"] == again["total_items"] == 4
    assert again["contents"] == first["contents"]
    # A listing by provider (any identifier may be asked for) is searched page by page.
    provider = third["contents"][0]["organization_id"]
    by_provider = client.get(f"/api/hsds/services?organization_id={provider}&page=2&per_page=1")
    assert by_provider.get_json()["total_items"] >= 1 and searches() > read


def test_the_next_pages_of_a_search_are_taken_from_its_best_matches(
    app: Flask, client: FlaskClient
) -> None:
    catalogue_data.load(app)
    asked: list[str] = []
    event.listen(get_db(app).engine, "before_cursor_execute", lambda *a: asked.append(a[2]))

    def page(number: int) -> list[str]:
        answer = client.get(
            f"/api/hsds/services?search=Pflege+Fahrdienst+Haushaltshilfe+Wohngeld&per_page=1&page={number}"
        )
        return [record["id"] for record in answer.get_json()["contents"]]

    first = page(1)
    searched = len([sql for sql in asked if "catalogue_search_document" in sql])
    later = [page(number) for number in (2, 3, 4)]
    assert len([sql for sql in asked if "catalogue_search_document" in sql]) == searched
    with app.app_context(), get_db(app).session() as session:
        whole = catalogue_search.search(
            session, "de", "Pflege Fahrdienst Haushaltshilfe Wohngeld", per_page=4
        )
    assert len(whole.service_ids) >= 3
    assert [*first, *(i for ids in later for i in ids)] == whole.service_ids
