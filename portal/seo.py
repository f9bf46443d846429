"""What search engines and link previews see: which pages may be indexed, their canonical
address and language alternates, and ``X-Robots-Tag: noindex`` on everything else.

Every address comes from ``PUBLIC_URL``, never from the request's Host header: public pages are
cached and shared, so nothing in them may depend on how one visitor reached the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request

from . import security
from .i18n import CONTENT_LANGUAGES, DEFAULT_LOCALE, current_locale
from .links import external_url

# The pages that are the same in every language and for everyone who has no business of their
# own with the portal: search engines may index them, and they carry a canonical address,
# hreflang alternates and a link preview.
INDEXABLE_ENDPOINTS = frozenset(
    {
        "public.home",
        "public.impressum",
        "public.privacy",
        "public.accessibility",
        "catalogue.index",
        "catalogue.service",
        "request.start",
        "booking.start",
    }
)
# What is no page for people but open to everyone: files, the open-data API, redirects to public
# pages, robots.txt and the sitemaps. They carry no robots header.
OPEN_ENDPOINTS = frozenset(
    {
        "static",
        "public.root",
        "public.request_entry",
        "public.booking_entry",
        "public.favicon",
        "public.easy_language",
        "public.security_txt",
    }
)
# The health blueprint answers load balancers and Prometheus, not people.
OPEN_BLUEPRINTS = frozenset({"api", "health", "seo"})
NOINDEX = "noindex"
# og:locale wants language_TERRITORY; Arabic is ar_AR in the Open Graph protocol's list.
OG_LOCALES = {
    "de": "de_DE",
    "en": "en_GB",
    "tr": "tr_TR",
    "ar": "ar_AR",
    "ru": "ru_RU",
    "uk": "uk_UA",
    "pl": "pl_PL",
    "ro": "ro_RO",
    "bg": "bg_BG",
}


@dataclass(frozen=True)
class Alternate:
    """One language version of a page: its hreflang value and its absolute address."""

    hreflang: str
    href: str


@dataclass(frozen=True)
class PageLinks:
    """The head links of an indexable page.

    Leichte Sprache pages have no alternates: they are German (``de``) for a different reader,
    no language of their own, and an hreflang value must be a language (and region) code, so
    ``de`` twice in one set would contradict itself and ``de-x-ls`` is no code search engines
    accept. They keep their own canonical address and are reached through the links of every page.
    """

    canonical: str
    alternates: tuple[Alternate, ...]
    og_locale: str


def indexable_request() -> bool:
    """Whether this request asks for an indexable page (the catalogue only unsearched, or one
    topic); whether it answered with one also depends on the response's status."""
    if request.method not in ("GET", "HEAD") or request.endpoint not in INDEXABLE_ENDPOINTS:
        return False
    if request.endpoint == "catalogue.index":
        return not request.args or security.topic_of_page() is not None
    return True


def _address_values() -> dict[str, Any]:
    """The URL values that name this page besides its language."""
    values = dict(request.view_args or {})
    if "service_id" in values:
        values["service_id"] = str(values["service_id"]).lower()
    if request.endpoint == "catalogue.index" and (topic := security.topic_of_page()):
        values[security.TOPIC_ARGUMENT] = topic
    return values


def page_links() -> PageLinks | None:
    """The canonical address and the language alternates of the page being rendered, or
    ``None`` when it is no indexable page (flow steps, private and staff pages, searches)."""
    if not indexable_request():
        return None
    endpoint = str(request.endpoint)
    values = _address_values()
    locale = current_locale()
    canonical = external_url(endpoint, lang=locale.code, **values)
    og_locale = OG_LOCALES.get(locale.html_lang, OG_LOCALES[DEFAULT_LOCALE])
    if locale.code not in CONTENT_LANGUAGES:
        return PageLinks(canonical, (), og_locale)
    alternates = [
        Alternate(code, external_url(endpoint, lang=code, **values)) for code in CONTENT_LANGUAGES
    ]
    # The address without a language: the home page's root chooses by the browser's language;
    # every other page's is its German source.
    x_default = (
        external_url("public.root")
        if endpoint == "public.home"
        else external_url(endpoint, lang=DEFAULT_LOCALE, **values)
    )
    alternates.append(Alternate("x-default", x_default))
    return PageLinks(canonical, tuple(alternates), og_locale)


def is_open(endpoint: str | None) -> bool:
    """Whether ``endpoint`` is no page for people but open to all (files, API, sitemaps)."""
    if endpoint is None:
        return False
    return endpoint in OPEN_ENDPOINTS or endpoint.partition(".")[0] in OPEN_BLUEPRINTS


def robots_header(response: Response) -> str | None:
    """The ``X-Robots-Tag`` a response gets: ``noindex`` unless it is an indexable page or
    something open to all (an error page is never indexable)."""
    if response.status_code < 400 and (indexable_request() or is_open(request.endpoint)):
        return None
    return NOINDEX


def init_app(app: Flask) -> None:
    """Give templates the head links, and mark every other response ``noindex``."""

    @app.context_processor
    def _seo_context() -> dict[str, Any]:
        return {"page_links": page_links}

    @app.after_request
    def _robots_tag(response: Response) -> Response:
        tag = robots_header(response)
        if tag:
            response.headers["X-Robots-Tag"] = tag
        return response
