"""The page cache: pages that are the same for everyone are answered before Flask runs.

Flask decides what may be kept (:func:`mark`, an after-request hook): a 200 answer to a GET or
HEAD without a session cookie, from an endpoint in ``CACHEABLE_ENDPOINTS``, that is not private
(``security.is_private``: no form token, no search, no request data), sets no cookie and shows
no flashed message. Such an answer gets ``ETag``, ``Last-Modified`` and a public
``Cache-Control``; with the cache on, the WSGI layer (``middleware``) keeps it, keyed by path,
query string, the content revision and the deployment, and answers the next request for it
itself. The revision is read at most every ``PAGE_CACHE_REVISION_SECONDS`` per process.

A search (:func:`kept_locally`) is the same page for everyone who asks the same words, but what
someone looks for is not for shared caches: it keeps ``Cache-Control: no-store`` and is kept
only in this process's memory, never in Redis, under the same key. Two residents who search
for "Pflege" cost one rendering.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, Response, current_app, g, request, session

from .. import security
from ..config import Settings
from ..db import get_db
from ..services import content
from ..services.content import Revision
from . import middleware
from .middleware import CANDIDATE_KEY, LOCAL_KEY, REVISION_KEY, STORE_KEY, PageCacheMiddleware
from .revision import RevisionClock
from .store import MemoryStore, RedisStore, Store

# Pages that are the same for every visitor without a session. The accessibility statement is
# not among them: its feedback form carries a CSRF token (and starts a session).
CACHEABLE_ENDPOINTS = frozenset(
    {
        "public.home",
        "public.impressum",
        "public.privacy",
        "catalogue.index",  # the overview and one topic's page; a search is private
        "catalogue.service",
        "api.root",
        "api.services",  # without ``search`` (the API marks a search no-store)
        "api.service",
        "api.organizations",
        "api.organization",
        "api.taxonomies",
        "api.taxonomy",
        "api.taxonomy_terms",
        "api.taxonomy_term",
        # 70–80 ms each at 10,000 offers; crawlers ask for them again and again.
        "seo.robots",
        "seo.sitemap_index",
        "seo.sitemap_part",
    }
)
# The query parameters the API reads. A page is kept only for an address whose parameters the
# page reads (none for the HTML pages), so made-up query strings cannot fill the store.
API_PARAMETERS = frozenset(
    {
        "lang",
        "page",
        "per_page",
        "full",
        "full_service",
        "taxonomy_term_id",
        "taxonomy_id",
        "organization_id",
        "modified_after",
    }
)
# Searches, kept in this process only (see the module's docstring), with the parameters each
# reads: another parameter is not kept, so made-up query strings cannot crowd out real searches.
SEARCH_PARAMETERS = {
    "catalogue.index": frozenset({"q", "topic", "town", "language", "page"}),
    "api.services": API_PARAMETERS | {"search"},
}
# A browser keeps a page a minute without asking; a shared proxy (nginx in deploy/) half a
# minute. Together with the revision interval that bounds how long an edit takes to show
# (about 90 s at worst), while a crowd from a press release is answered by the proxy.
CACHE_CONTROL = "public, max-age=60, s-maxage=30"
EXTENSION = "portal.page_cache"
ROOT = Path(__file__).resolve().parents[2]
# What a deployment is made of: a change to any of these must not meet pages kept before it.
DEPLOYED = ("portal/**/*.py", "templates/**/*.html", "translations/**/*.mo", "static/**/*")
SECRETS = ("secret_key", "encryption_keys", "blind_index_key", "mail_password", "imap_password")


@dataclasses.dataclass
class PageCache:
    """The cache of one app: its revision clock, its store (``None``: off), when it started."""

    clock: RevisionClock
    store: Store | None
    started: datetime
    searches: MemoryStore | None = None


def deployment_tag(settings: Settings, root: Path = ROOT) -> str:
    """A short hash of the code, templates, catalogs, static files and settings (secrets
    left out), so a release or a changed setting never meets pages kept by the one before."""
    digest = hashlib.sha256()
    for pattern in DEPLOYED:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    public = dataclasses.replace(
        settings, **{name: type(getattr(settings, name))() for name in SECRETS}
    )
    digest.update(repr(public).encode())
    return digest.hexdigest()[:12]


def _store(settings: Settings) -> Store | None:
    """The configured store; none in debug mode, where templates change under the developer's
    hands and must show at once."""
    uri = settings.page_cache_uri
    if not uri or settings.debug:
        return None
    if uri.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(uri, f"{settings.rate_limit_key_prefix}:page:")
    return MemoryStore(settings.page_cache_size_mb * 1024 * 1024)


def _reader(app: Flask) -> Revision:
    database = get_db(app)
    with database.readers() as reading:
        revision = content.current(reading)
        database.end(reading, reading=True)
        return revision


def init_app(app: Flask, settings: Settings) -> None:
    """Mark cacheable answers; with ``PAGE_CACHE_URI`` set, wrap ``app.wsgi_app`` to serve them.

    Call it after ``ProxyFix`` is applied (the cache wraps it) and before a layer that must see
    every request (the request log) wraps the result.
    """
    store = _store(settings)
    searches = None if store is None else MemoryStore(settings.page_cache_size_mb * 1024 * 1024)

    def forget() -> None:
        for kept in (store, searches):
            if kept is not None:
                kept.clear()

    clock = RevisionClock(
        lambda: _reader(app), settings.page_cache_revision_seconds, on_change=forget
    )
    cache = PageCache(clock, store, datetime.now(UTC).replace(microsecond=0), searches)
    app.extensions[EXTENSION] = cache
    app.after_request(mark)
    if store is not None and searches is not None:
        cookies = frozenset({"portal", "__Host-portal", app.config["SESSION_COOKIE_NAME"]})
        app.wsgi_app = PageCacheMiddleware(  # type: ignore[method-assign]
            app.wsgi_app, store, clock, deployment_tag(settings), cookies, searches
        )


def cacheable(response: Response, cookie_name: str) -> bool:
    """Whether ``response`` is the same for everyone who asks for this address."""
    return (
        request.endpoint in CACHEABLE_ENDPOINTS
        and _only_parameters_it_reads()
        and _for_anyone(response, cookie_name)
        and "no-store" not in response.headers.get("Cache-Control", "")
        and not security.is_private(response)
    )


def kept_locally(response: Response, cookie_name: str) -> bool:
    """Whether ``response``, which :func:`cacheable` refused, is a search that this process may
    keep for the next visitor who asks the same (never a shared cache: it stays ``no-store``)."""
    wanted = SEARCH_PARAMETERS.get(request.endpoint or "")
    return (
        wanted is not None
        and set(request.args) <= wanted
        and "csrf_token" not in g
        and _for_anyone(response, cookie_name)
    )


def _for_anyone(response: Response, cookie_name: str) -> bool:
    """A whole 200 answer to a GET or HEAD of a visitor without a session, that sets none."""
    return (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and not response.is_streamed
        and cookie_name not in request.cookies
        and not _session_touched(response)
        and not response.headers.get("Set-Cookie")
    )


def _only_parameters_it_reads() -> bool:
    """No query string on a page, but a known topic on a topic page; on the API only the
    parameters it reads."""
    if request.blueprint == "api":
        return set(request.args) <= API_PARAMETERS
    if request.endpoint == "catalogue.index" and request.args:
        return security.topic_of_page() is not None
    return not request.args


def _session_touched(response: Response) -> bool:
    """Whether this request put something (a flashed message) into the session.

    Only pages are asked: they read the session anyway (flashed messages), while asking on a
    JSON answer would add ``Vary: Cookie`` to it. Whatever slips through sets a cookie, and the
    cache never keeps an answer that does.
    """
    if response.mimetype != "text/html":
        return False
    return bool(session.modified or "_flashes" in session)


def mark(response: Response) -> Response:
    """Give a cacheable answer its validators and public caching; tell the cache to keep it
    (and to keep a search in this process only)."""
    cookie_name = current_app.config["SESSION_COOKIE_NAME"]
    if not cacheable(response, cookie_name):
        if request.environ.get(CANDIDATE_KEY) and kept_locally(response, cookie_name):
            request.environ[STORE_KEY] = request.endpoint
            request.environ[LOCAL_KEY] = True
        return response
    cache: PageCache = current_app.extensions[EXTENSION]
    revision = request.environ.get(REVISION_KEY) or cache.clock.current()
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.add_etag()
    # Templates and settings change with a deployment, which the revision does not count.
    changed = revision.changed_at if revision else None
    response.last_modified = max(changed, cache.started) if changed else cache.started
    if request.environ.get(CANDIDATE_KEY):
        request.environ[STORE_KEY] = request.endpoint
    else:
        response.make_conditional(request)
    return response


__all__ = [
    "CACHEABLE_ENDPOINTS",
    "CACHE_CONTROL",
    "PageCache",
    "init_app",
    "kept_locally",
    "middleware",
]
