"""Security headers, cookie settings, CSRF, rate limits and abuse quotas."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, abort, current_app, g, request
from flask_limiter import Limiter, RequestLimit
from flask_wtf.csrf import CSRFProtect
from limits import RateLimitItemPerDay, RateLimitItemPerMinute
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from .config import Settings
from .services.catalogue import TOPICS

log = logging.getLogger("portal.security")

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        # Same-origin fetches only: tools that read /robots.txt from inside a page (Lighthouse's
        # SEO audit) are refused under default-src 'none'; no page script fetches anything.
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "manifest-src 'self'",
    )
)

HSTS = "max-age=31536000; includeSubDomains"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

# Pages that show what someone submitted must never be kept in a shared cache or history.
PRIVATE_BLUEPRINTS = frozenset({"request", "booking", "staff", "receipt"})
# A catalogue search names what someone looks for ("Schulden", "Sucht"): not for shared caches.
# One known topic alone (``?topic=care``) is a page of the catalogue like an offer's page, the
# same for everyone (linked from the overview, in the sitemap); a search or any other filter is not.
SEARCH_ENDPOINTS = frozenset({"catalogue.index"})
TOPIC_ARGUMENT = "topic"
# The only HTTP methods the portal answers; everything else (OPTIONS, PUT, TRACE …) gets a 405.
ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST"})
# What the ``Server`` header says: no product, no version.
SERVER_HEADER = "Soziales Duo"


def client_key() -> str:
    """The rate-limit key of the visitor: the IPv4 address, or the /64 network of an IPv6 one.

    One IPv6 connection usually holds a whole /64 and can pick a fresh address for every
    request, so counting full IPv6 addresses would not limit anyone. ``remote_addr`` is the
    address the trusted proxies (``PROXY_COUNT``) reported.
    """
    raw = (request.remote_addr or "").split("%", 1)[0]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def rate_limit_hit(endpoint: str, limit: str) -> None:
    """Log that a visitor ran into a rate limit (the 429 handler also writes a security event).

    Logs the endpoint and the limit only, never the visitor's address or what was sent.
    """
    log.warning("rate limit reached on %s (%s)", endpoint, limit)


def _on_breach(limit: RequestLimit) -> None:
    rate_limit_hit(request.endpoint or request.path, str(limit.limit))


csrf = CSRFProtect()
limiter = Limiter(
    key_func=client_key, default_limits=[], headers_enabled=False, on_breach=_on_breach
)


class ConfirmationQuota:
    """Confirmation emails one address gets per day, counted in the rate-limit storage.

    The key is an HMAC of the address under the secret key, so neither Redis nor memory holds
    the address itself. With Redis the count is shared by every app server.
    """

    def __init__(self, storage: Storage, secret: str, prefix: str, per_day: int) -> None:
        self.strategy = FixedWindowRateLimiter(storage)
        self.secret = secret.encode()
        self.prefix = prefix
        self.item = RateLimitItemPerDay(per_day)

    def _key(self, address: str) -> str:
        normal = address.strip().casefold()
        return hmac.new(self.secret, normal.encode(), hashlib.sha256).hexdigest()

    def take(self, address: str) -> bool:
        """Count one confirmation to ``address``; ``False`` when today's quota is used up."""
        return bool(self.strategy.hit(self.item, self.prefix, "confirmation", self._key(address)))


class EventThrottle:
    """At most one security-log entry per kind and visitor a minute, for the events anyone
    can cause at will (a refused CSRF token, a rate limit): a flood of them must neither fill
    the database nor push real sign-in events off the staff page."""

    def __init__(self, storage: Storage, prefix: str) -> None:
        self.strategy = FixedWindowRateLimiter(storage)
        self.prefix = prefix
        self.item = RateLimitItemPerMinute(1)

    def allows(self, kind: str, visitor: str) -> bool:
        """Count one event of ``kind`` from ``visitor``; ``False`` when one went this minute."""
        return bool(self.strategy.hit(self.item, self.prefix, "security-event", kind, visitor))


def event_worth_logging(kind: str) -> bool:
    """Whether this visitor's ``kind`` event should go to the security log now."""
    throttle: EventThrottle = current_app.extensions["portal.event_throttle"]
    try:
        return throttle.allows(kind, client_key())
    except Exception:  # the storage is down: log the event rather than lose it
        log.exception("security event throttle unavailable")
        return True


def confirmation_allowed(address: str) -> bool:
    """Whether one more confirmation email may go to ``address`` today (and count it)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    quota: ConfirmationQuota = current_app.extensions["portal.confirmation_quota"]
    try:
        return quota.take(address)
    except Exception:  # the storage is down: a confirmation too many beats a lost one
        log.exception("confirmation quota storage unavailable; sending the confirmation")
        return True


# Without a configured date, security.txt says it expires this many days after the day it is read.
SECURITY_TXT_DEFAULT_DAYS = 180


def security_txt(settings: Settings, now: datetime) -> str:
    """The portal's ``/.well-known/security.txt`` after RFC 9116."""
    if settings.security_txt_expires:
        expires = datetime.fromisoformat(settings.security_txt_expires)
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    else:
        expires = (now + timedelta(days=SECURITY_TXT_DEFAULT_DAYS)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    canonical = settings.public_url.rstrip("/") + "/.well-known/security.txt"
    lines = (
        f"Contact: {settings.security_contact}",
        f"Expires: {expires.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: de, en",
        f"Canonical: {canonical}",
    )
    return "\n".join(lines) + "\n"


def _storage(settings: Settings) -> Storage:
    storage = storage_from_string(settings.rate_limit_storage_uri)
    assert isinstance(storage, Storage)  # a synchronous URI: memory:// or redis://
    return storage


def topic_of_page() -> str | None:
    """The topic of a catalogue topic page (``?topic=<known code>`` and nothing else), else None.

    Search engines, the page cache and the headers all ask this one question the same way.
    """
    if set(request.args) != {TOPIC_ARGUMENT}:
        return None
    topic = request.args[TOPIC_ARGUMENT]
    return topic if topic in TOPICS else None


def is_private(response: Response) -> bool:
    """Pages with request data, a form (its CSRF token belongs to one visitor) or a search."""
    return (
        request.blueprint in PRIVATE_BLUEPRINTS
        or "csrf_token" in g
        or bool(request.endpoint in SEARCH_ENDPOINTS and request.args and not topic_of_page())
        or response.status_code >= 400
    )


def init_app(app: Flask, settings: Settings) -> None:
    """Set cookie flags, turn on CSRF protection and rate limits, add headers to responses."""
    secure = settings.secure_cookies
    app.config.update(
        PROVIDE_AUTOMATIC_OPTIONS=False,
        SESSION_COOKIE_NAME="__Host-portal" if secure else "portal",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure,
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage_uri,
        RATELIMIT_KEY_PREFIX=settings.rate_limit_key_prefix,
        # Redis down: count in this process's memory until it is back, rather than fail.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=not settings.rate_limit_storage_uri.startswith(
            "memory://"
        ),
        RATELIMIT_ENABLED=not settings.ratelimit_disabled,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    app.extensions["portal.event_throttle"] = EventThrottle(
        _storage(settings), settings.rate_limit_key_prefix
    )
    app.extensions["portal.confirmation_quota"] = ConfirmationQuota(
        _storage(settings),
        settings.secret_key or app.config["SECRET_KEY"],
        settings.rate_limit_key_prefix,
        settings.confirmation_mails_per_day,
    )

    @app.before_request
    def _only_known_methods() -> None:
        if request.method not in ALLOWED_METHODS:
            methods = request.url_rule.methods if request.url_rule else None
            abort(405, valid_methods=sorted((methods or ALLOWED_METHODS) & ALLOWED_METHODS))

    @app.after_request
    def _add_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers["Server"] = SERVER_HEADER
        if "Allow" in response.headers:
            allowed = {m.strip() for m in response.headers["Allow"].split(",")} & ALLOWED_METHODS
            response.headers["Allow"] = ", ".join(sorted(allowed))
        if is_private(response):
            response.headers["Cache-Control"] = "no-store"
        elif request.endpoint == "static":
            response.headers.setdefault("Cache-Control", "public, max-age=86400")
        return response
