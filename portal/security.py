"""Security headers, cookie settings, CSRF and rate limits."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from .config import Settings

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "manifest-src 'self'",
    )
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

# Pages that show what someone submitted must never be kept in a shared cache or history.
PRIVATE_BLUEPRINTS = frozenset({"request", "booking", "staff"})

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def init_app(app: Flask, settings: Settings) -> None:
    """Set cookie flags, turn on CSRF protection and rate limits, add headers to responses."""
    secure = settings.secure_cookies
    app.config.update(
        SESSION_COOKIE_NAME="__Host-portal" if secure else "portal",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure,
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage_uri,
        RATELIMIT_ENABLED=not settings.extra.get("ratelimit_disabled", False),
    )
    csrf.init_app(app)
    limiter.init_app(app)

    @app.after_request
    def _add_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.blueprint in PRIVATE_BLUEPRINTS:
            response.headers["Cache-Control"] = "no-store"
        elif request.endpoint == "static":
            response.headers.setdefault("Cache-Control", "public, max-age=86400")
        return response
