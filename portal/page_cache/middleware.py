"""The WSGI layer that answers a cached page before Flask runs, and stores what Flask allows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import is_resource_modified

from ..observe import ENDPOINT_KEY
from ..services.content import Revision
from .revision import RevisionClock
from .store import Entry, Store

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# The contract with the request log outside: the endpoint that answered (on a hit, the one
# that rendered the stored page).
# What the layer tells Flask on a miss, and what Flask answers (see ``policy``).
REVISION_KEY = "portal.page_cache.revision"
CANDIDATE_KEY = "portal.page_cache.candidate"
STORE_KEY = "portal.page_cache.store"
# Set with STORE_KEY for a search: kept in this process's own store only.
LOCAL_KEY = "portal.page_cache.local"
CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
# A 304 carries the validators and caching headers of the page, not its body's description.
NOT_IN_304 = frozenset({"content-length", "content-type", "content-language"})


def has_session_cookie(environ: dict[str, Any], names: frozenset[str]) -> bool:
    """Whether the request carries one of the session cookies ``names``."""
    header = environ.get("HTTP_COOKIE")
    if not header:
        return False
    return any(part.split("=", 1)[0].strip() in names for part in header.split(";"))


class PageCacheMiddleware:
    """Around ``app.wsgi_app``: GET and HEAD without a session cookie are looked up by path,
    query string, content revision and deployment; a hit is answered here (304 when the
    browser's copy is current), a miss goes to Flask, whose answer is kept if Flask marked it
    as the same for everyone: in ``store``, or in ``searches`` (this process's own) for a
    search. Everything else passes straight through."""

    def __init__(
        self,
        app: WSGIApp,
        store: Store,
        clock: RevisionClock,
        deployment: str,
        cookie_names: frozenset[str],
        searches: Store,
    ) -> None:
        self.app = app
        self.store = store
        self.searches = searches
        self.clock = clock
        self.deployment = deployment
        self.cookie_names = cookie_names
        self._prefix: tuple[Revision | None, str] = (None, "")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve from the cache, or let Flask answer (and keep the answer when allowed)."""
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        if (
            method not in ("GET", "HEAD")
            or path.startswith("/static/")
            or has_session_cookie(environ, self.cookie_names)
        ):
            return self.app(environ, start_response)
        revision = self.clock.current()
        if revision is None:
            return self.app(environ, start_response)
        key = self.key(environ, revision)
        entry = self.searches.get(key) if environ.get("QUERY_STRING") else None
        if entry is None:
            entry = self.store.get(key)
        if entry is not None:
            return serve(entry, environ, start_response)
        return self._fill(key, revision, environ, start_response)

    def key(self, environ: dict[str, Any], revision: Revision) -> str:
        """The cache key: deployment, revision, path and query string."""
        known, prefix = self._prefix
        if known is not revision:  # formatted once per revision, not per request
            prefix = f"{self.deployment}:{revision.tag}:"
            self._prefix = (revision, prefix)
        return (
            f"{prefix}{environ.get('SCRIPT_NAME', '')}"
            f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"
        )

    def _fill(
        self, key: str, revision: Revision, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Let Flask render; keep its answer if it set ``STORE_KEY``; answer from the entry."""
        # Flask renders the whole page, so it can be kept; the browser's validators are
        # checked against the kept entry afterwards.
        conditions = {name: environ.pop(name) for name in CONDITIONAL_HEADERS if name in environ}
        # HEAD is GET without the body: Flask renders the page as for GET, so the entry (and
        # the headers HEAD answers with) are the same for both.
        method = environ["REQUEST_METHOD"]
        environ["REQUEST_METHOD"] = "GET"
        environ[REVISION_KEY] = revision
        environ[CANDIDATE_KEY] = True
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.update(status=status, headers=headers, exc_info=exc_info)
            return lambda _data: None  # Flask never writes through this

        try:
            body = self.app(environ, capture)
        finally:
            environ["REQUEST_METHOD"] = method
            environ.update(conditions)
        headers: list[tuple[str, str]] = seen["headers"]
        local = bool(environ.get(LOCAL_KEY))
        storable = environ.get(STORE_KEY) and (
            _whole(seen["status"], headers) if local else _shareable(seen["status"], headers)
        )
        if not storable and method == "GET":
            start_response(seen["status"], headers, seen["exc_info"])
            return body
        data = _read(body)
        if not storable:  # a HEAD that was not kept: the GET's headers, no body
            start_response(seen["status"], headers, seen["exc_info"])
            return []
        entry = Entry(seen["status"], tuple(headers), data, str(environ[STORE_KEY]))
        (self.searches if local else self.store).put(key, entry)
        return serve(entry, environ, start_response)


def _whole(status: str, headers: list[tuple[str, str]]) -> bool:
    """What Flask sent is fit to keep in this process: a 200 that sets no cookie."""
    return status.startswith("200") and all(n.lower() != "set-cookie" for n, _v in headers)


def _shareable(status: str, headers: list[tuple[str, str]]) -> bool:
    """What Flask sent is fit to keep for anyone: :func:`_whole`, and shared caching allowed."""
    return _whole(status, headers) and not any(
        name.lower() == "cache-control" and ("no-store" in value or "private" in value)
        for name, value in headers
    )


def _read(body: Iterable[bytes]) -> bytes:
    """The whole body of a WSGI answer, closing it (Flask's teardown runs then)."""
    try:
        return b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def serve(entry: Entry, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    """Answer with a stored entry: 304 when the browser's copy is current, no body for HEAD."""
    environ[ENDPOINT_KEY] = entry.endpoint
    conditional = "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
    if conditional and not is_resource_modified(
        environ,
        etag=(entry.header("ETag") or "").strip('"') or None,
        last_modified=entry.header("Last-Modified"),
    ):
        start_response(
            "304 Not Modified", [h for h in entry.headers if h[0].lower() not in NOT_IN_304]
        )
        return []
    # A copy: layers outside may append headers (a request id) to the list they are given.
    start_response(entry.status, list(entry.headers))
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [entry.body]
