"""The outermost WSGI layer: a request id, one JSON log line and a latency sample per request.

It wraps everything else (the page cache, the proxy fix, Flask), so answers that never reach
Flask are logged and measured too. The log line names the Flask endpoint, never the path (it
may hold a private link's token), the query string, the address or any header. Contract with
the layers inside: ``environ["portal.endpoint"]`` names the endpoint (Flask sets it, as does a
cache that answers itself); ``environ["portal.request_id"]`` holds the request's id.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask, request

from . import logs, metrics

ENDPOINT_KEY = "portal.endpoint"
REQUEST_ID_KEY = "portal.request_id"
# An id the proxy may hand on (nginx's $request_id is 32 hex digits; a UUID fits too).
REQUEST_ID_FORMAT = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{7,63}")
UNMATCHED = "unmatched"

log = logging.getLogger("portal.access")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class RequestObserver:
    """WSGI middleware: request id in and out, the request log line and the latency histogram.

    ``trust_request_id``: take a well-formed ``X-Request-Id`` from the request (only behind the
    configured proxy, which sets it); otherwise every request gets a fresh id.
    """

    def __init__(self, app: WSGIApp, trust_request_id: bool) -> None:
        self.app = app
        self.trust_request_id = trust_request_id
        self._children: dict[tuple[str, str], Any] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve the request through the wrapped app, observed."""
        started = time.perf_counter()
        rid = self._request_id(environ)
        environ[REQUEST_ID_KEY] = rid
        token = logs.request_id.set(rid)
        seen: list[Any] = [None, None]  # status line, Content-Length

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen[0] = status
            for name, value in headers:
                if name.lower() == "content-length":
                    seen[1] = value
            headers.append(("X-Request-Id", rid))
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, _start)
        except BaseException:
            self._finish(environ, "500", 0, started)
            logs.request_id.reset(token)
            raise
        observed = _Observed(self, environ, body, seen, started, token)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            # A file the server may send with sendfile(): hand it on as it is and observe
            # its closing, rather than hiding it in a wrapper the server does not know.
            body.close = observed.close  # type: ignore[attr-defined]
            return body
        return observed

    def _request_id(self, environ: dict[str, Any]) -> str:
        """The proxy's id when trusted and well formed, else a new random one."""
        if self.trust_request_id:
            given = environ.get("HTTP_X_REQUEST_ID", "")
            if given and REQUEST_ID_FORMAT.fullmatch(given):
                return str(given)
        return secrets.token_hex(16)

    def _finish(self, environ: dict[str, Any], status: str, size: int, started: float) -> None:
        """Record the latency sample and write the request's log line."""
        seconds = time.perf_counter() - started
        endpoint = environ.get(ENDPOINT_KEY) or UNMATCHED
        status_code = status[:3]
        key = (endpoint, status_code[:1] + "xx")
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metrics.REQUEST_LATENCY.labels(*key)
        child.observe(seconds)
        if log.isEnabledFor(logging.INFO):
            fields = {
                "method": environ.get("REQUEST_METHOD", ""),
                "endpoint": endpoint,
                "status": int(status_code) if status_code.isdigit() else 0,
                "duration_ms": round(seconds * 1000, 2),
                "bytes": size,
            }
            # A record made directly: ``log.info`` would walk the stack to find the caller,
            # the costliest part of a log line, for a line whose origin is always here.
            record = log.makeRecord(
                log.name, logging.INFO, __file__, 0, "request", (), None, extra={"fields": fields}
            )
            log.handle(record)


class _Observed:
    """The response body, passed through; closing it ends the observation."""

    def __init__(
        self,
        observer: RequestObserver,
        environ: dict[str, Any],
        body: Iterable[bytes],
        seen: list[Any],
        started: float,
        token: Any,
    ) -> None:
        self.observer = observer
        self.environ = environ
        self.body = body
        self.seen = seen
        self.started = started
        self.token = token
        self.counted = 0
        # Taken now: a file wrapper's own ``close`` is replaced by ours (see the observer).
        self.inner_close: Callable[[], Any] | None = getattr(body, "close", None)

    def __iter__(self) -> Iterator[bytes]:
        if self.seen[1] is not None:
            return iter(self.body)
        return self._counting()

    def _counting(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.counted += len(chunk)
            yield chunk

    def close(self) -> None:
        """Close the wrapped body, then log and measure the request (once)."""
        try:
            if self.inner_close is not None:
                self.inner_close()
        finally:
            length = self.seen[1]
            size = int(length) if length and length.isdigit() else self.counted
            self.observer._finish(self.environ, self.seen[0] or "500", size, self.started)
            try:
                logs.request_id.reset(self.token)
            except ValueError:  # closed in another context than it began: nothing to undo
                logs.request_id.set("")


def _name_endpoint() -> None:
    """Tell the observer which endpoint answers (``unmatched`` when no route matched)."""
    request.environ[ENDPOINT_KEY] = request.endpoint or UNMATCHED


def init_app(app: Flask, trust_request_id: bool) -> None:
    """Name each request's endpoint in its environ, and make the observer the outermost WSGI
    layer of ``app``: call this after every other wrapper of ``app.wsgi_app``."""
    # First of all hooks, so a request another hook refuses is still named; the teardown
    # names the requests whose hooks never ran (a language that does not exist).
    app.before_request_funcs.setdefault(None, []).insert(0, _name_endpoint)
    app.teardown_request(lambda _error: _name_endpoint())
    app.wsgi_app = RequestObserver(app.wsgi_app, trust_request_id)  # type: ignore[method-assign]
