"""The page cache: public pages answered without Flask or the database, edits shown after the
revision interval, nothing private kept, validators and 304, HEAD, Redis shared by two apps,
and two gunicorn workers that each see an edit.

The shared app runs without the cache (tests/conftest.py); these tests build apps of their own
with it switched on, on a database whose commits are real.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, flash, g
from flask.testing import FlaskClient
from sqlalchemy import event, select, text

from portal import create_app
from portal.db import get_db
from portal.models import ServiceText, Town
from portal.page_cache import CACHE_CONTROL, EXTENSION, PageCache, cacheable, revision
from portal.page_cache.middleware import PageCacheMiddleware
from portal.page_cache.store import MemoryStore
from tests import catalogue_data
from tests.catalogue_data import CARE
from tests.conftest import clean, csrf_token, free_port

ROOT = Path(__file__).resolve().parents[2]
BOUND = 60.0
PHONE = "05246 961-0"


class FakeClock:
    """The revision clock's time, stepped by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def pass_the_bound(self) -> None:
        self.now += BOUND + 0.001


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Replace the clock the revision interval is measured on."""
    fake = FakeClock()
    monkeypatch.setattr(revision, "monotonic", fake)
    return fake


@pytest.fixture
def app_config(app_config: dict[str, Any], clock: FakeClock) -> dict[str, Any]:
    """The cache on, in memory, reading the revision every ``BOUND`` seconds."""
    return {**app_config, "page_cache_uri": "memory://", "page_cache_revision_seconds": BOUND}


def anonymous(app: Flask) -> FlaskClient:
    """A visitor without cookies (as a first visit from a QR code)."""
    return app.test_client(use_cookies=False)


def cache_of(app: Flask) -> PageCache:
    cache: PageCache = app.extensions[EXTENSION]
    return cache


def kept(app: Flask) -> int:
    """How many pages the app's in-process cache holds."""
    store = cache_of(app).store
    assert isinstance(store, MemoryStore)
    return len(store)


class QueryCounter:
    """Counts the statements an app's engine sends."""

    def __init__(self, app: Flask) -> None:
        self.count = 0
        event.listen(get_db(app).engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.count += 1


def set_phone_behind_the_caches_back(app: Flask, phone: str) -> None:
    """Change Verl's phone with plain SQL, which raises no content revision."""
    with get_db(app).engine.begin() as connection:
        connection.execute(text("UPDATE town SET phone = :p WHERE slug = 'verl'"), {"p": phone})


def edit_phone(app: Flask, phone: str) -> None:
    """Change Verl's phone as the staff area does (the revision goes up in the same commit)."""
    with app.app_context(), get_db(app).session() as session:
        session.scalars(select(Town).where(Town.slug == "verl")).one().phone = phone


def test_a_public_page_is_answered_from_the_cache_without_the_database(app: Flask) -> None:
    visitor = anonymous(app)
    first = visitor.get("/de/impressum")
    queries = QueryCounter(app)
    again = visitor.get("/de/impressum")
    assert queries.count == 0
    assert again.status_code == 200 and again.data == first.data
    assert again.headers["Cache-Control"] == CACHE_CONTROL
    assert again.headers["ETag"] == first.headers["ETag"]


def test_a_change_behind_the_caches_back_never_shows_an_edit_shows_after_the_bound(
    app: Flask, clock: FakeClock
) -> None:
    visitor = anonymous(app)
    assert PHONE in visitor.get("/de/").get_data(as_text=True)
    set_phone_behind_the_caches_back(app, "05246 111-1")
    clock.pass_the_bound()
    assert PHONE in visitor.get("/de/").get_data(as_text=True)  # the revision did not move
    edit_phone(app, "05246 222-2")
    assert PHONE in visitor.get("/de/").get_data(as_text=True)  # within the bound
    clock.pass_the_bound()
    page = visitor.get("/de/").get_data(as_text=True)
    assert "05246 222-2" in page and PHONE not in page


def test_a_catalogue_edit_shows_on_the_service_page_and_in_the_api_after_the_bound(
    app: Flask, clock: FakeClock
) -> None:
    catalogue_data.load(app)
    visitor = anonymous(app)
    page, api = f"/de/catalogue/service/{CARE}", f"/api/hsds/services/{CARE}"
    assert "Sonnenschein" in visitor.get(page).get_data(as_text=True)
    assert "Sonnenschein" in visitor.get(api).get_data(as_text=True)
    with app.app_context(), get_db(app).session() as session:
        session.get_one(ServiceText, (CARE, "de")).name = "Pflegedienst Morgenrot"
    assert "Sonnenschein" in visitor.get(page).get_data(as_text=True)
    clock.pass_the_bound()
    assert "Morgenrot" in visitor.get(page).get_data(as_text=True)
    assert "Morgenrot" in visitor.get(api).get_data(as_text=True)


def test_the_etag_changes_with_the_content(app: Flask, clock: FakeClock) -> None:
    visitor = anonymous(app)
    before = visitor.get("/de/").headers["ETag"]
    edit_phone(app, "05246 333-3")
    clock.pass_the_bound()
    after = visitor.get("/de/", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before
    assert "05246 333-3" in after.get_data(as_text=True)


@pytest.mark.parametrize("cached", [False, True], ids=["miss", "hit"])
def test_a_current_copy_gets_304_by_etag_or_date(app: Flask, cached: bool) -> None:
    visitor = anonymous(app)
    page = visitor.get("/de/datenschutz")
    if not cached:
        cache_of(app).store.clear()  # type: ignore[union-attr]
    by_etag = visitor.get("/de/datenschutz", headers={"If-None-Match": page.headers["ETag"]})
    assert by_etag.status_code == 304 and by_etag.data == b""
    assert by_etag.headers["ETag"] == page.headers["ETag"]
    assert by_etag.headers["Cache-Control"] == CACHE_CONTROL
    if not cached:
        cache_of(app).store.clear()  # type: ignore[union-attr]
    since = page.headers["Last-Modified"]
    by_date = visitor.get("/de/datenschutz", headers={"If-Modified-Since": since})
    assert by_date.status_code == 304 and by_date.data == b""
    stale = visitor.get("/de/datenschutz", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.data == page.data


def test_without_the_cache_public_pages_still_get_validators_and_304(
    app_config: dict[str, Any],
) -> None:
    plain = create_app({**app_config, "page_cache_uri": ""})
    try:
        visitor = anonymous(plain)
        page = visitor.get("/de/")
        assert page.headers["Cache-Control"] == CACHE_CONTROL
        again = visitor.get("/de/", headers={"If-None-Match": page.headers["ETag"]})
        assert again.status_code == 304
    finally:
        get_db(plain).engine.dispose()


@pytest.mark.parametrize("cached", [False, True], ids=["miss", "hit"])
def test_head_answers_with_the_headers_and_no_body(app: Flask, cached: bool) -> None:
    visitor = anonymous(app)
    page = visitor.get("/de/catalogue/")
    if not cached:
        cache_of(app).store.clear()  # type: ignore[union-attr]
    head = visitor.head("/de/catalogue/")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(page.data))
    assert head.headers["ETag"] == page.headers["ETag"]


def test_a_visitor_with_a_session_is_neither_served_nor_stored(app: Flask) -> None:
    resident = app.test_client()
    csrf_token(resident, "/de/barrierefreiheit")  # a form: the browser holds a session now
    assert kept(app) == 0
    resident.get("/de/")
    assert kept(app) == 0
    anonymous(app).get("/de/")
    assert kept(app) == 1
    queries = QueryCounter(app)
    resident.get("/de/")  # rendered again, not taken from the cache
    assert queries.count > 0


def test_a_flashed_message_is_not_kept(app: Flask) -> None:
    resident = app.test_client()
    token = csrf_token(resident, "/de/barrierefreiheit")
    answer = resident.post("/de/forget", data={"csrf_token": token}, follow_redirects=True)
    assert "vergessen" in answer.get_data(as_text=True)
    assert "vergessen" not in anonymous(app).get("/de/").get_data(as_text=True)
    with app.test_request_context("/de/"):
        flash("Nur für diese Person")
        response = app.make_response("<p>Nur für diese Person</p>")
        assert not cacheable(response, app.config["SESSION_COOKIE_NAME"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/de/barrierefreiheit"),  # the feedback form carries a CSRF token
        ("GET", "/de/catalogue/?q=Schulden"),
        ("GET", "/de/catalogue/?topic=care&q=Pflege"),
        ("GET", "/de/catalogue/?topic=care&town=verl"),
        ("GET", "/de/catalogue/?topic=bogus"),
        ("GET", "/api/hsds/services?search=Schulden"),
        ("GET", "/de/catalogue/service/00000000-0000-0000-0000-000000000000"),  # 404
        ("GET", "/de/no-such-page"),
        ("GET", "/de/request/"),
        ("GET", "/de/booking/"),
        ("GET", "/de/staff/signin"),
        ("GET", "/"),  # by Accept-Language
        ("GET", "/request/"),
        ("POST", "/de/barrierefreiheit"),
        ("GET", "/.well-known/security.txt"),
        ("GET", "/de/?made-up=1"),  # a query string the page does not read
        ("GET", "/api/hsds/services?made-up=1"),
    ],
)
def test_nothing_private_or_personal_is_kept(app: Flask, method: str, path: str) -> None:
    visitor = anonymous(app)
    for _ in range(2):
        answer = visitor.open(path, method=method, headers={"Accept-Language": "tr"})
        assert answer.headers.get("Cache-Control") != CACHE_CONTROL, path
        assert "ETag" not in answer.headers, path
    assert kept(app) == 0


def test_a_topic_page_is_kept_like_an_offer_page(app: Flask) -> None:
    catalogue_data.load(app)
    visitor = anonymous(app)
    first = visitor.get("/de/catalogue/?topic=care")
    assert "Sonnenschein" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == CACHE_CONTROL
    queries = QueryCounter(app)
    assert visitor.get("/de/catalogue/?topic=care").data == first.data
    assert queries.count == 0


@pytest.mark.parametrize("path", ["/robots.txt", "/sitemap.xml", "/sitemap-1.xml"])
def test_what_crawlers_read_is_kept(app: Flask, path: str) -> None:
    catalogue_data.load(app)
    visitor = anonymous(app)
    first = visitor.get(path)
    assert first.status_code == 200 and first.headers["Cache-Control"] == CACHE_CONTROL
    queries = QueryCounter(app)
    assert visitor.get(path).data == first.data
    assert queries.count == 0


def test_an_unknown_topic_is_a_search_for_proxies_too(app: Flask) -> None:
    # Only a known topic makes a page of its own; anything else may name what someone looks for.
    catalogue_data.load(app)
    visitor = anonymous(app)
    assert visitor.get("/de/catalogue/?topic=bogus").headers["Cache-Control"] == "no-store"
    assert visitor.get("/de/catalogue/?topic=care").headers["Cache-Control"] == CACHE_CONTROL


def test_the_api_is_kept_per_parameter_it_reads(app: Flask) -> None:
    visitor = anonymous(app)
    for address in ("/api/hsds/services?lang=tr&per_page=5", "/api/hsds/taxonomy_terms?lang=ar"):
        assert visitor.get(address).headers["Cache-Control"] == CACHE_CONTROL
    assert kept(app) == 2


@pytest.mark.parametrize(
    ("path", "form_token"),
    [
        ("/de/catalogue/?q=Schulden", False),
        ("/de/catalogue/?topic=care&language=tr", False),
        ("/de/impressum", True),
    ],
)
def test_flask_never_marks_a_search_or_a_page_with_a_form_token(
    app: Flask, path: str, form_token: bool
) -> None:
    with app.test_request_context(path):
        if form_token:
            g.csrf_token = "a-token-for-one-visitor"
        response = app.make_response("<p>Seite</p>")
        assert not cacheable(response, app.config["SESSION_COOKIE_NAME"])
    with app.test_request_context("/de/impressum"):
        assert cacheable(app.make_response("<p>Seite</p>"), app.config["SESSION_COOKIE_NAME"])


def test_a_staff_page_after_sign_in_is_not_kept(app: Flask) -> None:
    from tests.integration.test_staff import make_staff, sign_in

    secret = make_staff(app, "koordination@example.org", None, role="coordinator")
    staff = app.test_client()
    sign_in(staff, "koordination@example.org", secret)
    assert staff.get("/de/staff/").status_code == 200
    assert staff.get("/de/").status_code == 200
    assert kept(app) == 0


def searches_kept(app: Flask) -> int:
    """How many searches the app's own store holds."""
    store = cache_of(app).searches
    assert store is not None
    return len(store)


@pytest.mark.parametrize(
    "path",
    [
        "/de/catalogue/?q=Pflege",
        "/tr/catalogue/?q=bak%C4%B1m&page=1",
        "/api/hsds/services?search=Pflege",
    ],
)
def test_a_search_is_kept_in_this_process_only_and_stays_no_store(app: Flask, path: str) -> None:
    catalogue_data.load(app)
    visitor = anonymous(app)
    first = visitor.get(path)
    assert "Sonnenschein" in first.get_data(as_text=True)
    queries = QueryCounter(app)
    again = visitor.get(path)
    assert again.data == first.data and queries.count == 0
    for answer in (first, again):  # never for a proxy or the browser to keep
        assert answer.headers["Cache-Control"] == "no-store" and "ETag" not in answer.headers
    assert searches_kept(app) == 1 and kept(app) == 0


def test_an_edit_shows_in_a_search_after_the_bound(app: Flask, clock: FakeClock) -> None:
    catalogue_data.load(app)
    visitor = anonymous(app)
    assert "Sonnenschein" in visitor.get("/de/catalogue/?q=Pflege").get_data(as_text=True)
    with app.app_context(), get_db(app).session() as session:
        session.get_one(ServiceText, (CARE, "de")).name = "Pflegedienst Morgenrot"
    assert "Sonnenschein" in visitor.get("/de/catalogue/?q=Pflege").get_data(as_text=True)
    clock.pass_the_bound()
    page = visitor.get("/de/catalogue/?q=Pflege").get_data(as_text=True)
    assert "Morgenrot" in page and "Sonnenschein" not in page


def test_a_search_goes_by_the_revision_the_page_cache_read(app: Flask, clock: FakeClock) -> None:
    catalogue_data.load(app)
    visitor = anonymous(app)
    visitor.get("/de/")  # the cache has read the revision
    asked: list[str] = []
    event.listen(get_db(app).engine, "before_cursor_execute", lambda *a: asked.append(a[2]))
    assert "Sonnenschein" in visitor.get("/de/catalogue/?q=Pflege").get_data(as_text=True)
    assert asked and not [sql for sql in asked if "content_revision" in sql]
    # Staff who just renamed an offer, browsing with their session, see it at once.
    staff = app.test_client()
    csrf_token(staff, "/de/barrierefreiheit")
    with app.app_context(), get_db(app).session() as session:
        session.get_one(ServiceText, (CARE, "de")).name = "Pflegedienst Morgenrot"
    assert "Morgenrot" in staff.get("/de/catalogue/?q=Pflege").get_data(as_text=True)
    assert "Sonnenschein" in visitor.get("/de/catalogue/?q=Pflege&page=1").get_data(as_text=True)
    clock.pass_the_bound()
    assert "Morgenrot" in visitor.get("/de/catalogue/?q=Pflege&page=1").get_data(as_text=True)


def test_a_visitor_with_a_session_gets_a_search_of_their_own(app: Flask) -> None:
    catalogue_data.load(app)
    resident = app.test_client()
    csrf_token(resident, "/de/barrierefreiheit")  # the browser holds a session now
    resident.get("/de/catalogue/?q=Pflege")
    assert searches_kept(app) == 0
    anonymous(app).get("/de/catalogue/?q=Pflege")
    assert searches_kept(app) == 1
    queries = QueryCounter(app)
    resident.get("/de/catalogue/?q=Pflege")  # rendered for them, not taken from the store
    assert queries.count > 0


@pytest.mark.parametrize(
    "path",
    [
        "/de/catalogue/?q=Zahnarztbohrer",  # nothing found: a form to ask us, with a token
        "/de/catalogue/?q=Pflege&made-up=1",
        "/api/hsds/services?search=Pflege&made-up=1",
        "/de/catalogue/service/00000000-0000-0000-0000-000000000000",
    ],
)
def test_a_search_with_a_form_token_or_a_parameter_nobody_reads_is_not_kept(
    app: Flask, path: str
) -> None:
    catalogue_data.load(app)
    visitor = anonymous(app)
    for _ in range(2):
        visitor.get(path)
    assert searches_kept(app) == 0 and kept(app) == 0


def test_a_search_is_never_shared_through_redis(
    app_config: dict[str, Any], redis_server: str
) -> None:
    config = {**app_config, "page_cache_uri": redis_server, "rate_limit_key_prefix": "pc-search"}
    first, second = create_app(config), create_app(config)
    try:
        clean(first)
        catalogue_data.load(first)
        page = anonymous(first).get("/de/catalogue/?q=Pflege")
        assert "Sonnenschein" in page.get_data(as_text=True)
        assert searches_kept(first) == 1
        queries = QueryCounter(second)
        assert anonymous(second).get("/de/catalogue/?q=Pflege").data == page.data
        assert queries.count > 0  # rendered by the second app: it was nowhere to share
    finally:
        for application in (first, second):
            get_db(application).engine.dispose()


def test_redis_shares_pages_between_two_apps(app_config: dict[str, Any], redis_server: str) -> None:
    config = {**app_config, "page_cache_uri": redis_server, "rate_limit_key_prefix": "pc-test"}
    first, second = create_app(config), create_app(config)
    try:
        clean(first)
        page = anonymous(first).get("/de/impressum")
        assert PHONE in page.get_data(as_text=True)
        set_phone_behind_the_caches_back(first, "05246 444-4")
        shared = anonymous(second).get("/de/impressum")  # never rendered by the second app
        assert shared.data == page.data
        own = anonymous(second).get("/de/datenschutz")  # not kept yet: rendered, new phone
        assert "05246 444-4" in own.get_data(as_text=True)
    finally:
        for application in (first, second):
            get_db(application).engine.dispose()


def test_pages_are_served_while_redis_is_away(app_config: dict[str, Any]) -> None:
    config = {**app_config, "page_cache_uri": f"redis://127.0.0.1:{free_port()}/0"}
    application = create_app(config)
    try:
        clean(application)
        visitor = anonymous(application)
        assert visitor.get("/de/").status_code == 200
        assert visitor.get("/de/").status_code == 200
    finally:
        get_db(application).engine.dispose()


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


@pytest.fixture
def gunicorn(app_config: dict[str, Any]) -> Iterator[int]:
    """The portal under gunicorn, two worker processes, each with its own in-process cache
    that reads the revision every half second."""
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_SECRET_KEY": app_config["secret_key"],
        "PORTAL_DATABASE_URL": app_config["database_url"],
        "PORTAL_INSTANCE_PATH": app_config["instance_path"],
        "PORTAL_PAGE_CACHE_REVISION_SECONDS": "0.5",
    }
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "4"),
            *("-b", f"127.0.0.1:{port}", "portal:create_app()"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                _get(port, "/de/")
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_two_gunicorn_workers_each_show_an_edit_after_the_bound(app: Flask, gunicorn: int) -> None:
    for _ in range(20):  # the workers keep the page (which of them answers is up to gunicorn)
        status, _headers, body = _get(gunicorn, "/de/")
        assert status == 200 and PHONE.encode() in body
    edit_phone(app, "05246 666-6")
    time.sleep(0.6)  # past the interval of every worker
    pages = [_get(gunicorn, "/de/")[2] for _ in range(20)]
    assert all(b"05246 666-6" in page and PHONE.encode() not in page for page in pages)
    assert b"05246 666-6" in _get(gunicorn, "/de/impressum")[2]


def test_a_hit_names_the_endpoint_that_rendered_the_page_for_the_request_log(app: Flask) -> None:
    seen: list[str | None] = []
    inner = app.wsgi_app

    def request_log(environ: dict[str, Any], start_response: Any) -> Any:
        answer = inner(environ, start_response)
        seen.append(environ.get("portal.endpoint"))
        return answer

    app.wsgi_app = request_log  # type: ignore[method-assign]
    visitor = anonymous(app)
    visitor.get("/de/impressum")
    queries = QueryCounter(app)
    visitor.get("/de/impressum")
    assert queries.count == 0 and seen[-1] == "public.impressum"


def test_in_debug_mode_pages_are_rendered_every_time(app_config: dict[str, Any]) -> None:
    development = create_app({**app_config, "debug": True})
    try:
        assert cache_of(development).store is None
        assert not isinstance(development.wsgi_app, PageCacheMiddleware)
    finally:
        get_db(development).engine.dispose()
