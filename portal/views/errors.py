"""Translated error pages."""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..i18n import DEFAULT_LOCALE, LOCALE_CODES
from ..security import event_worth_logging
from ..security_events import security_event

log = logging.getLogger("portal.errors")
PAGES = {400: "400", 404: "404", 405: "404", 413: "400", 429: "429"}


def _guess_language() -> None:
    """Error pages outside a language prefix speak the language of the path or the browser."""
    if "lang" not in g:
        first = request.path.strip("/").split("/")[0]
        g.lang = first if first in LOCALE_CODES else DEFAULT_LOCALE


def _log_security_event(error: HTTPException, code: int) -> None:
    """Refused CSRF tokens and rate-limit hits go to the security event log, committed at once."""
    kind = "csrf_failed" if isinstance(error, CSRFError) else "rate_limited" if code == 429 else ""
    if not kind or not event_worth_logging(kind):
        return
    security_event(kind, detail=request.endpoint or "", own_transaction=True)


def _wait_minutes(error: HTTPException) -> int:
    """The longest a visitor who ran into a rate limit has to wait: the limit's window."""
    if not isinstance(error, RateLimitExceeded):
        return 0
    return max(1, math.ceil(error.limit.limit.get_expiry() / 60))


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Any, int, list[tuple[str, str]]]:
        code = error.code or 500
        _log_security_event(error, code)
        # Only the Allow header of a 405 goes out; the others describe the failed request.
        headers = [(name, value) for name, value in error.get_headers() if name == "Allow"]
        if request.path.startswith("/api/"):
            return jsonify({"error": error.description, "status": code}), code, headers
        _guess_language()
        if code >= 500:
            return render_template("errors/500.html"), code, headers
        template = "400" if isinstance(error, CSRFError) else PAGES.get(code, "400")
        page = render_template(
            f"errors/{template}.html",
            csrf=isinstance(error, CSRFError),
            wait_minutes=_wait_minutes(error),
        )
        return page, code, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Any, int]:
        # The path and the exception type only: never form data or request bodies.
        log.error(
            "unhandled %s on %s %s",
            type(error).__name__,
            request.method,
            request.url_rule,
            exc_info=error,
        )
        if app.testing and app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        if request.path.startswith("/api/"):
            body = {"error": InternalServerError.description, "status": InternalServerError.code}
            return jsonify(body), InternalServerError.code
        _guess_language()
        return render_template("errors/500.html"), InternalServerError.code
