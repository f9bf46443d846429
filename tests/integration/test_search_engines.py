"""What search engines and link previews see: robots.txt (read by Python's own robots parser),
``X-Robots-Tag: noindex`` on private pages, canonical and hreflang links on public ones, the
sitemap index and its parts, and a description of every public page in its language."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any
from urllib.robotparser import RobotFileParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from portal import seo
from portal.config import settings_of
from portal.db import get_db
from portal.i18n import CONTENT_LANGUAGES, EASY_LANGUAGE, LOCALE_CODES
from portal.models import Service
from portal.views import seo as seo_views
from portal.views.booking.steps import FLOW as BOOKING_FLOW
from portal.views.requests import FLOW as REQUEST_FLOW
from tests import catalogue_data
from tests.booking_support import confirm, manage_path, seed_schedule, walk_booking
from tests.catalogue_data import CARE, GERMAN_ONLY, HOUSEHOLD, TRANSPORT
from tests.conftest import FULL_ANSWERS, answer_all, submit
from tests.expect import match_in, present

BASE = "http://portal.test"  # PUBLIC_URL of the app under test
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
# Pages that exist in every language and may be indexed (the path after /<lang>).
PUBLIC_PATHS = (
    "/",
    "/impressum",
    "/datenschutz",
    "/barrierefreiheit",
    "/request/",
    "/booking/",
    "/catalogue/",
    "/catalogue/?topic=care",
    f"/catalogue/service/{CARE}",
)
HIDDEN = catalogue_data.uid("service", "hidden")


class Head(HTMLParser):
    """The links and meta tags of a page's head."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.meta: dict[str, str] = {}
        self.feed(html.split("</head>", 1)[0])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect ``<link>`` and ``<meta name|property>``."""
        values = {name: value or "" for name, value in attrs}
        if tag == "link":
            self.links.append(values)
        elif tag == "meta" and ("name" in values or "property" in values):
            self.meta[values.get("name") or values["property"]] = values.get("content", "")

    @property
    def canonical(self) -> list[str]:
        """Every canonical address the page names (there must be one at most)."""
        return [link["href"] for link in self.links if link.get("rel") == "canonical"]

    @property
    def alternates(self) -> dict[str, str]:
        """hreflang → address of the page's language alternates."""
        pairs = [
            (link["hreflang"], link["href"])
            for link in self.links
            if link.get("rel") == "alternate"
        ]
        assert len(pairs) == len(dict(pairs)), f"an hreflang value twice: {pairs}"
        return dict(pairs)


def _head(client: FlaskClient, path: str) -> Head:
    response = client.get(path)
    assert response.status_code == 200, path
    return Head(response.get_data(as_text=True))


def _robots(client: FlaskClient) -> RobotFileParser:
    """The portal's robots.txt as a real robots parser reads it."""
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    parser = RobotFileParser()
    parser.parse(response.get_data(as_text=True).splitlines())
    return parser


@pytest.fixture
def loaded(app: Flask) -> Flask:
    """The small test catalogue, plus an offer nobody may see (inactive)."""
    data = catalogue_data.dataset()
    hidden = catalogue_data._service(
        "hidden", "debt", ["verl"], ["de"], name="Aufgegeben", status="inactive"
    )
    data["services"].append(hidden)
    catalogue_data.load(app, data)
    return app


# robots.txt and X-Robots-Tag


def _private_paths_of_a_request(client: FlaskClient, lang: str) -> list[str]:
    """Send a request; every address it used or gave: steps, check, done, receipt, status link."""
    answer_all(client, lang)
    submit(client, lang)
    done = client.get(f"/{lang}/request/done").get_data(as_text=True)
    status_link = match_in(rf"{BASE}(/{lang}/request/status/[A-Za-z0-9_-]+)", done).group(1)
    receipt = client.get(f"/{lang}/request/done/receipt").get_data(as_text=True)
    verify_link = match_in(rf"{BASE}(/[a-z]{{2}}/receipt/verify/[A-Z0-9-]+)", receipt).group(1)
    steps = [f"/{lang}/request/{step}" for step, _answers in FULL_ANSWERS]
    return [
        *steps,
        *(f"/{lang}/request/{page}" for page in ("check", "done", "done/receipt")),
        status_link,
        *(f"/{lang}/request/{page}" for page in ("status", "status/receipt")),
        verify_link,
        f"/{lang}/receipt/verify",
    ]


def _private_paths_of_a_booking(app: Flask, client: FlaskClient, lang: str) -> list[str]:
    """Book an appointment; every address the booking used or gave, the private link included."""
    seed_schedule(app)
    walk_booking(client, lang)
    assert confirm(client, lang).status_code == 302
    done = client.get(f"/{lang}/booking/done").get_data(as_text=True)
    steps = ["who", "relation", "town", "location", "slot", "topic", "details", "check"]
    return [
        *(f"/{lang}/booking/{step}" for step in steps),
        *(f"/{lang}/booking/{page}" for page in ("done", "done/receipt", "done/termin.ics")),
        manage_path(done),
        f"/{lang}/booking/manage",
        *(f"/{lang}/booking/manage/{page}" for page in ("receipt", "termin.ics", "move", "erase")),
        f"/{lang}/booking/manage/cancel",
    ]


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_robots_txt_and_noindex_keep_every_private_address_of_a_real_request_and_booking_out(
    app: Flask, client: FlaskClient, lang: str
) -> None:
    robots = _robots(client)
    booker = app.test_client()
    visits = [(client, path) for path in _private_paths_of_a_request(client, lang)]
    visits += [(booker, path) for path in _private_paths_of_a_booking(app, booker, lang)]
    visits += [
        (client, path)
        for path in (f"/{lang}/catalogue/?q=Schulden", f"/{lang}/staff/", f"/{lang}/staff/signin")
    ]
    assert [path for _, path in visits if robots.can_fetch("AnyBot", BASE + path)] == []
    for visitor, path in visits:
        with visitor.session_transaction() as session:
            session.pop("_flashes", None)  # a redirect not followed leaves its message behind
        response = visitor.get(path)
        assert response.status_code < 400, path
        assert response.headers.get("X-Robots-Tag") == "noindex", path


def test_robots_txt_lets_crawlers_read_the_public_pages_and_names_the_sitemap(
    loaded: Flask, client: FlaskClient
) -> None:
    robots = _robots(client)
    public = [f"/{code}{path}" for code in LOCALE_CODES for path in PUBLIC_PATHS]
    public += ["/", "/sitemap.xml", "/api/hsds/services", "/.well-known/security.txt"]
    plain = FlaskClient(loaded)  # HEAD answers have no page to check
    assert [path for path in public if not robots.can_fetch("AnyBot", BASE + path)] == []
    for path in public:
        response = client.get(path)
        assert response.status_code in (200, 302), path
        assert "X-Robots-Tag" not in response.headers, path
        assert "X-Robots-Tag" not in plain.head(path).headers, path
    assert robots.site_maps() == [f"{BASE}/sitemap.xml"]


def test_robots_txt_names_the_public_address_whatever_host_was_asked(client: FlaskClient) -> None:
    text = client.get("/robots.txt", base_url="http://attacker.example").get_data(as_text=True)
    assert "attacker" not in text and f"Sitemap: {BASE}/sitemap.xml" in text


def _sample_paths(app: Flask, rule: Rule) -> list[str]:
    """Addresses of ``rule`` in every language; a flow's question route once per question."""
    steps = {"request.step": REQUEST_FLOW.steps, "booking.step": BOOKING_FLOW.steps}
    names = [step.name for step in steps.get(rule.endpoint, ())] or ["x"]
    urls = app.url_map.bind("portal.test")
    values: dict[str, Any] = {
        name: 1 if type(rule._converters[name]).__name__ == "IntegerConverter" else "x"
        for name in rule.arguments
    }
    return [
        urls.build(rule.endpoint, {**values, "lang": code, "name": name}, append_unknown=False)
        for code in LOCALE_CODES
        for name in names
    ]


def test_every_page_that_is_not_public_is_kept_from_crawlers_and_marked_noindex(
    app: Flask, client: FlaskClient
) -> None:
    robots = _robots(client)
    allowed, unmarked, checked = [], [], 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or seo.is_open(rule.endpoint):
            continue
        if rule.endpoint in seo.INDEXABLE_ENDPOINTS:
            continue
        paths = _sample_paths(app, rule)
        allowed += [path for path in paths if robots.can_fetch("AnyBot", BASE + path)]
        response = client.get(paths[0])
        if response.headers.get("X-Robots-Tag") != "noindex":
            unmarked.append((paths[0], response.status_code))
        checked += 1
    assert checked > 60
    assert allowed == [] and unmarked == []


def test_a_page_can_read_robots_txt_under_its_content_security_policy(client: FlaskClient) -> None:
    # Lighthouse's SEO audit reads /robots.txt from inside the page it audits.
    policy = client.get("/de/").headers["Content-Security-Policy"]
    assert "connect-src 'self'" in [part.strip() for part in policy.split(";")]


# Canonical and hreflang


@pytest.mark.parametrize("lang", CONTENT_LANGUAGES)
def test_public_pages_link_every_language_with_absolute_addresses_and_x_default(
    loaded: Flask, client: FlaskClient, lang: str
) -> None:
    for path in PUBLIC_PATHS:
        # Asked under another host name: every address still comes from PUBLIC_URL.
        response = client.get(f"/{lang}{path}", base_url="http://other-host.example")
        head = Head(response.get_data(as_text=True))
        assert head.canonical == [f"{BASE}/{lang}{path}"], path
        x_default = f"{BASE}/" if path == "/" else f"{BASE}/de{path}"
        expected = {code: f"{BASE}/{code}{path}" for code in CONTENT_LANGUAGES}
        assert head.alternates == {**expected, "x-default": x_default}, path
        for hreflang in head.alternates:
            assert re.fullmatch(r"[a-z]{2}|x-default", hreflang), hreflang
        assert head.meta["og:url"] == head.canonical[0]
        assert head.meta["og:locale"] == seo.OG_LOCALES[lang]
        assert head.meta["og:type"] == "website" and head.meta["og:site_name"]


def test_the_language_versions_of_a_page_name_each_other(
    loaded: Flask, client: FlaskClient
) -> None:
    for path in PUBLIC_PATHS:
        sets = {lang: _head(client, f"/{lang}{path}").alternates for lang in CONTENT_LANGUAGES}
        assert len({tuple(sorted(found.items())) for found in sets.values()}) == 1, path


def test_an_offer_and_a_topic_have_one_canonical_address(
    loaded: Flask, client: FlaskClient
) -> None:
    upper = _head(client, f"/en/catalogue/service/{CARE.upper()}")
    assert upper.canonical == [f"{BASE}/en/catalogue/service/{CARE}"]
    hinted = _head(client, "/de/barrierefreiheit?page=/de/catalogue/")
    assert hinted.canonical == [f"{BASE}/de/barrierefreiheit"]


def test_leichte_sprache_pages_have_their_own_address_and_no_language_alternates(
    loaded: Flask, client: FlaskClient
) -> None:
    for path in PUBLIC_PATHS:
        head = _head(client, f"/{EASY_LANGUAGE}{path}")
        assert head.canonical == [f"{BASE}/{EASY_LANGUAGE}{path}"], path
        assert head.alternates == {}, path
        assert head.meta["og:locale"] == "de_DE"


@pytest.mark.parametrize(
    "path",
    [
        "/de/request/who",
        "/de/catalogue/?q=Pflege",
        "/de/catalogue/?topic=care&town=verl",
        "/de/catalogue/?topic=care&page=2",
        "/de/catalogue/?topic=no-such-topic",
        "/de/staff/signin",
        "/de/receipt/verify",
        f"/de/catalogue/service/{HIDDEN}",
        "/de/catalogue/service/no-such-offer",
        "/de/no-such-page",
    ],
)
def test_pages_that_are_not_public_have_no_canonical_alternates_or_preview(
    loaded: Flask, client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    head = Head(response.get_data(as_text=True))
    assert head.canonical == [] and head.alternates == {}, path
    assert not any(name.startswith("og:") for name in head.meta)
    assert response.headers.get("X-Robots-Tag") == "noindex"


# The sitemap


def _sitemap(client: FlaskClient) -> tuple[list[str], list[ET.Element]]:
    """The addresses of the parts the index names, and every ``<url>`` of all of them."""
    index = client.get("/sitemap.xml")
    assert index.status_code == 200 and index.mimetype == "application/xml"
    root = ET.fromstring(index.get_data())
    assert root.tag == f"{SITEMAP}sitemapindex"
    parts = [loc.text or "" for loc in root.iter(f"{SITEMAP}loc")]
    urls: list[ET.Element] = []
    for part in parts:
        assert part.startswith(f"{BASE}/")
        response = client.get(part.removeprefix(BASE))
        assert response.status_code == 200, part
        urlset = ET.fromstring(response.get_data())
        assert urlset.tag == f"{SITEMAP}urlset"
        urls += urlset.findall(f"{SITEMAP}url")
    return parts, urls


def _loc(url: ET.Element) -> str:
    return url.findtext(f"{SITEMAP}loc") or ""


def test_the_sitemap_lists_every_public_page_in_every_language_and_each_answers(
    loaded: Flask, client: FlaskClient
) -> None:
    _parts, urls = _sitemap(client)
    locs = [_loc(url) for url in urls]
    assert len(locs) == len(set(locs))
    topics = ("care", "transport", "household", "benefits")
    offers = (CARE, TRANSPORT, HOUSEHOLD, GERMAN_ONLY)
    paths = [p for p in PUBLIC_PATHS if "?topic" not in p and "/service/" not in p]
    paths += [f"/catalogue/?topic={topic}" for topic in topics]
    paths += [f"/catalogue/service/{offer}" for offer in offers]
    assert set(locs) == {f"{BASE}/{code}{path}" for code in LOCALE_CODES for path in paths}
    for loc in locs:
        assert client.get(loc.removeprefix(BASE)).status_code == 200, loc


def test_each_sitemap_entry_names_its_language_versions(loaded: Flask, client: FlaskClient) -> None:
    _parts, urls = _sitemap(client)
    by_loc = {_loc(url): url for url in urls}
    care = f"/catalogue/service/{CARE}"
    for code in LOCALE_CODES:
        links = by_loc[f"{BASE}/{code}{care}"].findall(f"{XHTML}link")
        found = {link.get("hreflang"): link.get("href") for link in links}
        if code == EASY_LANGUAGE:
            assert found == {}
            continue
        expected = {lang: f"{BASE}/{lang}{care}" for lang in CONTENT_LANGUAGES}
        assert found == {**expected, "x-default": f"{BASE}/de{care}"}
        assert all(link.get("rel") == "alternate" for link in links)
    home = by_loc[f"{BASE}/tr/"].findall(f"{XHTML}link")
    assert {link.get("hreflang"): link.get("href") for link in home}["x-default"] == f"{BASE}/"


def test_the_sitemap_dates_offers_and_topics_by_the_catalogue_data(
    loaded: Flask, client: FlaskClient
) -> None:
    _parts, urls = _sitemap(client)
    lastmod = {_loc(url): url.findtext(f"{SITEMAP}lastmod") for url in urls}
    # The test catalogue's offers were last modified on 2026-11-01 10:00 UTC; an offer's page
    # also shows its provider, whose record the import dated (the later of both counts).
    with get_db(loaded).readers() as session:
        offer = present(session.get(Service, CARE))
        shown = max(offer.last_modified, offer.organization.last_modified)
    assert lastmod[f"{BASE}/ar/catalogue/service/{CARE}"] == shown.strftime(
        "%Y-%m-%dT%H:%M:%S+00:00"
    )
    assert shown > offer.last_modified
    assert lastmod[f"{BASE}/de/catalogue/?topic=care"] == "2026-11-01T10:00:00+00:00"
    assert lastmod[f"{BASE}/de/datenschutz"] == settings_of(loaded).privacy_notice_date
    assert lastmod[f"{BASE}/de/impressum"] is None


def test_the_sitemap_splits_into_parts_at_its_limit(
    loaded: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parts, whole = _sitemap(client)
    monkeypatch.setattr(seo_views, "URLS_PER_SITEMAP", 25)  # two pages (ten languages each)
    parts, split = _sitemap(client)
    pages = len(whole) // len(LOCALE_CODES)
    assert parts == [f"{BASE}/sitemap-{n}.xml" for n in range(1, (pages + 1) // 2 + 1)]
    for part in parts:
        size = len(ET.fromstring(client.get(part.removeprefix(BASE)).get_data()))
        assert 0 < size <= 25
    assert [_loc(url) for url in split] == [_loc(url) for url in whole]
    assert client.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404


def test_the_sitemap_names_the_public_address_whatever_host_was_asked(
    loaded: Flask, client: FlaskClient
) -> None:
    for path in ("/sitemap.xml", "/sitemap-1.xml"):
        text = client.get(path, base_url="http://attacker.example").get_data(as_text=True)
        assert "attacker" not in text and f"{BASE}/" in text


# Descriptions and link previews


def _description(client: FlaskClient, path: str) -> str:
    head = _head(client, path)
    description = head.meta.get("description", "")
    assert description.strip() and "\n" not in description, path
    assert head.meta.get("og:description", description) == description, path
    return description


def test_every_public_page_describes_itself_in_its_language(
    loaded: Flask, client: FlaskClient
) -> None:
    german = {path: _description(client, f"/de{path}") for path in PUBLIC_PATHS}
    assert len(set(german.values())) == len(PUBLIC_PATHS), "each page its own description"
    for code in LOCALE_CODES:
        if code == "de":
            continue
        same = [
            path for path in PUBLIC_PATHS if _description(client, f"/{code}{path}") == german[path]
        ]
        assert same == [], f"not translated into {code}: {same}"


def test_an_offer_is_described_by_its_own_text_or_by_its_name_in_the_readers_language(
    loaded: Flask, client: FlaskClient
) -> None:
    # The care offer has a Turkish text; the German-only offer falls back to German.
    turkish = _description(client, f"/tr/catalogue/service/{CARE}")
    assert turkish.startswith("Evde yaşlı ve hasta insanlara bakım")
    fallback = _description(client, f"/en/catalogue/service/{GERMAN_ONLY}")
    assert "Soziales Duo's catalogue of services" in fallback
    assert (
        _head(client, f"/en/catalogue/service/{GERMAN_ONLY}")
        .meta["og:title"]
        .startswith("Wohngeld")
    )
