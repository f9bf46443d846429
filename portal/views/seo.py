"""robots.txt and the sitemaps: what search engines may read, and every public page in every
language with its alternates.

Addresses come from ``PUBLIC_URL`` (these answers are cached and shared, so never from the
request's Host header). The sitemap is an index of parts of at most :data:`URLS_PER_SITEMAP`
addresses each: at 10,000 offers in ten languages one file would pass the protocol's limit of
50,000 addresses (and, with ten alternates per address, its 50 MB).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from xml.sax.saxutils import escape, quoteattr

from flask import Blueprint, abort
from werkzeug.wrappers import Response

from .. import db, security
from ..i18n import CONTENT_LANGUAGES, DEFAULT_LOCALE, LOCALE_CODES
from ..legal import accessibility as accessibility_facts
from ..links import external_url
from ..services import catalogue, sitemap
from . import current_settings
from .booking.steps import FLOW as BOOKING_FLOW
from .requests import FLOW as REQUEST_FLOW

bp = Blueprint("seo", __name__)

# Addresses per sitemap file. Each carries its ten alternates (about 1.3 KB with them): 5,000
# make a file of about 6.5 MB that one request builds in well under a second, far below the
# protocol's 50,000 addresses and 50 MB (20,000 made 25 MB files that took seconds).
URLS_PER_SITEMAP = 5_000
# How long a proxy or crawler may keep robots.txt and the sitemaps.
CACHE_CONTROL = "public, max-age=3600"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"

# Paths after /<lang>/ that no search engine should fetch: the staff area, the private links
# (request status, booking management, receipts and their check links), the pages after and
# between the questions of the guided flows, and catalogue searches (what someone looked for).
# The questions themselves follow from the flows' declarations (see ``private_paths``).
PRIVATE_PATHS = (
    "staff/",
    "receipt/",
    "request/status",
    "request/check",
    "request/done",
    "request/permission",
    "request/elsewhere",
    "booking/check",
    "booking/done",
    "booking/taken",
    "booking/manage",
    "catalogue/?q=",
)


def private_paths() -> list[str]:
    """Every private path after /<lang>/: the fixed ones and each question of both flows."""
    steps = [f"request/{step.name}" for step in REQUEST_FLOW.steps]
    steps += [f"booking/{step.name}" for step in BOOKING_FLOW.steps]
    return list(dict.fromkeys([*PRIVATE_PATHS, *steps]))


def robots_txt() -> str:
    """The rules for every crawler, one ``Disallow`` per language and private path.

    Plain prefixes rather than wildcards (``/*/request/status``): every robots parser reads
    them, the 1994 ones and Python's ``urllib.robotparser`` included.
    """
    lines = [
        "# Soziales Duo: public pages may be read; private links, the staff area, the steps of",
        "# the forms and catalogue searches may not (they also answer with X-Robots-Tag: noindex).",
        "User-agent: *",
    ]
    paths = private_paths()
    lines += [f"Disallow: /{code}/{path}" for code in LOCALE_CODES for path in paths]
    lines += ["", f"Sitemap: {external_url('seo.sitemap_index')}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SitemapPage:
    """A public page (in every language): its endpoint, the values naming it, its last change."""

    endpoint: str
    values: dict[str, str] = field(default_factory=dict)
    last_modified: date | datetime | None = None


def _fixed_pages() -> list[SitemapPage]:
    """The pages besides the offers: home, legal pages, flow starts, catalogue and its topics."""
    session = db.session()
    privacy_date = date.fromisoformat(current_settings().privacy_notice_date)
    pages = [
        SitemapPage("public.home"),
        SitemapPage("public.impressum"),
        SitemapPage("public.privacy", last_modified=privacy_date),
        SitemapPage("public.accessibility", last_modified=accessibility_facts.REVIEWED_ON),
        SitemapPage("request.start"),
        SitemapPage("booking.start"),
        SitemapPage("catalogue.index", last_modified=sitemap.catalogue_changed(session)),
    ]
    pages += [
        SitemapPage("catalogue.index", {security.TOPIC_ARGUMENT: topic.key}, topic.last_modified)
        for topic in sitemap.visible_topics(session, catalogue.TOPICS)
    ]
    return pages


def _pages_per_part() -> int:
    """Pages per sitemap file: each page is listed once per language."""
    return max(1, URLS_PER_SITEMAP // len(LOCALE_CODES))


def _part_count(fixed: int) -> int:
    total = fixed + sitemap.visible_service_count(db.session())
    return max(1, math.ceil(total / _pages_per_part()))


def _pages_of_part(part: int, fixed: list[SitemapPage]) -> list[SitemapPage]:
    """The pages of sitemap file ``part`` (from 1): the fixed pages first, then the offers by id."""
    per_part = _pages_per_part()
    start = (part - 1) * per_part
    end = start + per_part
    pages = fixed[start:end]
    first_offer, last_offer = max(start - len(fixed), 0), end - len(fixed)
    if last_offer > first_offer:
        offers = sitemap.visible_services(db.session(), first_offer, last_offer - first_offer)
        pages += [
            SitemapPage("catalogue.service", {"service_id": offer.key}, offer.last_modified)
            for offer in offers
        ]
    return pages


def _w3c_date(moment: date | datetime) -> str:
    """A sitemap ``lastmod``: a day, or a time in UTC."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return moment.isoformat()


def _url_entries(page: SitemapPage) -> Iterator[str]:
    """The ``<url>`` elements of one page: one per language, the content languages with the
    alternates of all of them and ``x-default``; Leichte Sprache on its own (no language code)."""
    addresses = {
        code: external_url(page.endpoint, lang=code, **page.values) for code in LOCALE_CODES
    }
    x_default = (
        external_url("public.root") if page.endpoint == "public.home" else addresses[DEFAULT_LOCALE]
    )
    links = [(code, addresses[code]) for code in CONTENT_LANGUAGES] + [("x-default", x_default)]
    alternates = "".join(
        f'<xhtml:link rel="alternate" hreflang="{code}" href={quoteattr(href)}/>'
        for code, href in links
    )
    lastmod = f"<lastmod>{_w3c_date(page.last_modified)}</lastmod>" if page.last_modified else ""
    for code in LOCALE_CODES:
        extra = alternates if code in CONTENT_LANGUAGES else ""
        yield f"<url><loc>{escape(addresses[code])}</loc>{lastmod}{extra}</url>\n"


def _xml(body: Sequence[str] | Iterator[str], root: str) -> Response:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    namespaces = f'xmlns="{SITEMAP_NS}"' + (
        f' xmlns:xhtml="{XHTML_NS}"' if root == "urlset" else ""
    )
    text = f"{head}<{root} {namespaces}>\n{''.join(body)}</{root}>\n"
    return Response(text, mimetype="application/xml", headers={"Cache-Control": CACHE_CONTROL})


@bp.get("/robots.txt")
def robots() -> Response:
    """What crawlers may fetch, and where the sitemap is."""
    return Response(robots_txt(), mimetype="text/plain", headers={"Cache-Control": CACHE_CONTROL})


@bp.get("/sitemap.xml")
def sitemap_index() -> Response:
    """The sitemap index: one part per :data:`URLS_PER_SITEMAP` addresses."""
    parts = _part_count(len(_fixed_pages()))
    entries = [
        f"<sitemap><loc>{escape(external_url('seo.sitemap_part', part=part))}</loc></sitemap>\n"
        for part in range(1, parts + 1)
    ]
    return _xml(entries, "sitemapindex")


@bp.get("/sitemap-<int:part>.xml")
def sitemap_part(part: int) -> Response:
    """One part of the sitemap: its pages in every language, with their alternates."""
    fixed = _fixed_pages()
    if not 1 <= part <= _part_count(len(fixed)):
        abort(404)
    entries = (entry for page in _pages_of_part(part, fixed) for entry in _url_entries(page))
    return _xml(entries, "urlset")
