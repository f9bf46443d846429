"""Typed, frozen settings: defaults < instance file < ``PORTAL_*`` environment."""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from .crypto import BadKey, decode_key
from .legal.privacy import NOTICE_DATE, NOTICE_VERSION


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot run the portal safely."""


@dataclass(frozen=True)
class TownSettings:
    """Contact facts of one member town, seeded into the ``town`` table."""

    slug: str
    name: str
    postcodes: tuple[str, ...]
    inbox: str
    street: str
    postcode: str
    phone: str = ""
    email: str = ""
    website: str = ""


@dataclass(frozen=True)
class Settings:
    """Every setting the portal reads; the README lists each one."""

    secret_key: str = ""
    database_url: str = ""
    public_url: str = "http://127.0.0.1:5000"
    mail_server: str = "127.0.0.1"
    mail_port: int = 8025
    mail_use_tls: bool = False
    mail_use_ssl: bool = False
    mail_username: str = ""
    mail_password: str = ""
    mail_sender: str = "Soziales Duo <portal@example.org>"
    mail_timeout: float = 10.0
    # A CA bundle (PEM) to verify the SMTP server's certificate against, e.g. a local CA;
    # empty uses the system's trusted CAs.
    mail_ca_file: str = ""
    # Mail that comes back: replies, bounces and auto-replies. Empty turns the feature off.
    inbound_address: str = ""
    imap_host: str = ""
    imap_port: int = 993
    imap_ssl: bool = True
    imap_username: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    imap_done_folder: str = "Verarbeitet"
    imap_interval: int = 120
    inbox_verl: str = "soziales-duo-verl@example.org"
    inbox_shs: str = "soziales-duo-shs@example.org"
    feedback_inbox: str = "barrierefreiheit@example.org"
    phone_verl: str = "05246 961-0"
    email_verl: str = "kontakt@verl.de"
    phone_shs: str = "05207 8905-0"
    email_shs: str = ""
    website_shs: str = "https://www.schlossholtestukenbrock.de"
    website_verl: str = "https://www.verl.de"
    # The Soziales Duo's own contact, named in the Impressum.
    duo_phone: str = "05246 961-0"
    duo_email: str = "soziales-duo@example.org"
    response_days: int = 3
    urgent_response_days: int = 1
    rate_limit_submit: str = "20 per hour"
    rate_limit_signin: str = "30 per 15 minutes"
    # Checking a receipt's code: an office may check several residents' receipts in a row.
    rate_limit_verify: str = "60 per hour"
    rate_limit_storage_uri: str = "memory://"
    # Prefix of every rate-limit and quota key, so several portals can share one Redis.
    rate_limit_key_prefix: str = "soziales-duo"
    # Confirmation emails (request, booking made, moved, cancelled) one address gets per day.
    confirmation_mails_per_day: int = 5
    # Upcoming active appointments one email address or phone number may hold at once.
    bookings_per_contact: int = 3
    # /.well-known/security.txt (RFC 9116): where to report a vulnerability, and until when.
    security_contact: str = "mailto:it-sicherheit@verl.de"
    security_txt_expires: str = ""
    draft_hours: int = 48
    booking_horizon_days: int = 56
    booking_lead_minutes: int = 120
    booking_page_days: int = 14
    # Pages of catalogue search results each app process keeps (least recently used leave).
    search_cache_entries: int = 1000
    # Retention: what the privacy notice promises, and what ``retention purge`` deletes.
    retention_days_request: int = 90
    retention_days_unclosed: int = 365
    retention_warning_days: int = 30
    retention_days_booking: int = 30
    retention_days_audit: int = 365
    retention_days_outbox: int = 30
    # Receipts (reference, time of receipt, town) are kept this long after the request came
    # in, longer than the request itself: a benefit may be granted from the day someone asked.
    retention_days_receipt: int = 1096
    # The version of the privacy notice residents confirm; stored with each confirmation.
    # Defaults follow the notice itself (portal/legal/privacy.py); its "Stand" date beside it.
    privacy_notice_version: str = NOTICE_VERSION
    privacy_notice_date: str = NOTICE_DATE.isoformat()
    # The towns' data protection officers, as the privacy notice names them (towns confirm).
    dpo_phone_verl: str = "05261 252271"
    dpo_email_verl: str = ""
    dpo_phone_shs: str = ""
    dpo_email_shs: str = ""
    # Days the web server's access log is kept: the notice states it, the IT service sets it.
    server_log_days: int = 7
    resident_link_days: int = 30
    staff_idle_minutes: int = 30
    resident_idle_minutes: int = 30
    # Status and booking links stop working this many days after closing or the appointment.
    private_link_days: int = 30
    security_log_days: int = 90
    staff_absolute_hours: int = 12
    outbox_max_attempts: int = 8
    digest_hour: int = 7
    digest_send_empty: bool = False
    proxy_count: int = 0
    # Who may read /metrics (addresses or networks); everyone else gets a 404.
    metrics_allowed: tuple[str, ...] = ("127.0.0.1", "::1")
    # /readyz answers 503 when more emails than this wait, or the oldest waits longer.
    ready_outbox_backlog: int = 500
    ready_outbox_age_minutes: int = 60
    # The page cache of pages that are the same for everyone: memory:// (each process its own,
    # bounded by PAGE_CACHE_SIZE_MB), redis://… (shared by every app server), empty: off.
    page_cache_uri: str = "memory://"
    page_cache_size_mb: int = 32
    # How often each process reads the content revision: an edit shows after at most this long.
    page_cache_revision_seconds: float = 1.0
    # The town that runs the portal's technology for both (privacy notice), and the number
    # staff account emails give for questions.
    provider_name: str = "Stadt Verl"
    provider_phone: str = "05246 961-0"
    # Keys that encrypt personal data at rest (URL-safe base64, 32 bytes each): the first
    # encrypts, all decrypt. Empty: the key file instance/encryption.keys (created if missing).
    encryption_keys: tuple[str, ...] = ()
    # The key of the blind indexes (exact lookups of email and phone); needed with the above.
    blind_index_key: str = ""
    debug: bool = False
    testing: bool = False
    # Switches every rate limit off; the test suite does, so its many requests are not refused.
    ratelimit_disabled: bool = False

    @property
    def secure_cookies(self) -> bool:
        """Whether the portal is served over HTTPS, so cookies can be ``Secure``."""
        return self.public_url.startswith("https://")

    def towns(self) -> tuple[TownSettings, ...]:
        """The member towns with the contact facts from configuration (seeded when missing)."""
        return (
            TownSettings(
                slug="verl",
                name="Verl",
                postcodes=("33415",),
                inbox=self.inbox_verl,
                street="Paderborner Straße 5",
                postcode="33415",
                phone=self.phone_verl,
                email=self.email_verl,
                website=self.website_verl,
            ),
            TownSettings(
                slug="shs",
                name="Schloß Holte-Stukenbrock",
                postcodes=("33758",),
                inbox=self.inbox_shs,
                street="Rathausstraße 2",
                postcode="33758",
                phone=self.phone_shs,
                email=self.email_shs,
                website=self.website_shs,
            ),
        )


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}

# Where the settings live on the Flask app; ``attach`` and ``settings_of`` are its only readers.
_EXTENSION = "portal.settings"


class _App(Protocol):
    """What the settings accessor needs of a Flask app (no flask import: services use this module)."""

    extensions: dict[str, Any]


def attach(app: _App, settings: Settings) -> None:
    """Keep ``settings`` on ``app`` for ``settings_of``."""
    app.extensions[_EXTENSION] = settings


def settings_of(app: _App) -> Settings:
    """The typed settings of ``app`` (``current_settings`` in views: of the running app)."""
    settings: Settings = app.extensions[_EXTENSION]
    return settings


# Settings an older portal read and this one ignores: an instance that still sets one starts
# and logs a warning that says where the value lives now.
RETIRED = {
    "provider_representative": "the mayors are in portal/legal/impressum.py",
    "provider_street": "addresses come from the town table (Staff → Städte)",
    "provider_postcode_city": "addresses come from the town table (Staff → Städte)",
    "provider_email": "email addresses come from the town table (Staff → Städte)",
    "provider_vat_id": "the Impressum names no VAT id (portal/legal/impressum.py)",
    "supervisory_authority": "the authorities are in portal/legal/impressum.py",
}


def _coerce(name: str, value: Any) -> Any:
    """Turn a value from the environment or instance file into the field's type."""
    kind = _FIELDS[name].type
    if kind == "bool":
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "tuple[str, ...]":
        items = value.replace(",", " ").split() if isinstance(value, str) else value
        return tuple(str(item).strip() for item in items if str(item).strip())
    return str(value)


# ``PORTAL_*`` variables that are not settings: where the instance folder is (read before the
# settings), and the test suite's own databases (``PORTAL_TEST_DATABASE_URL`` and the like).
ENVIRONMENT_ONLY = ("PORTAL_INSTANCE_PATH", "PORTAL_TEST_")


def load_settings(
    instance_path: Path,
    overrides: dict[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    framework_keys: Collection[str] = (),
) -> Settings:
    """Build the settings from defaults, ``instance/portal.cfg`` and ``PORTAL_*`` variables.

    A name that is no setting stops the start (``ConfigError``), unless it is one of
    ``framework_keys`` (Flask's own, which the portal sets itself: ignored with a warning).
    """
    values: dict[str, Any] = {}
    instance_file = instance_path / "portal.cfg"
    if instance_file.is_file():
        found = _read_instance_file(instance_file)
        values.update(_known(found, str(instance_file), "", framework_keys))
    env = os.environ if environ is None else environ
    found = {
        key[7:].lower(): raw
        for key, raw in env.items()
        if key.startswith("PORTAL_") and not key.startswith(ENVIRONMENT_ONLY)
    }
    values.update(_known(found, "the environment", "PORTAL_", framework_keys=()))
    values.update(_known(overrides or {}, "the app's configuration", "", framework_keys))
    _warn_retired(values)
    known = {k: _coerce(k, v) for k, v in values.items()}
    if not known.get("database_url"):
        known["database_url"] = f"sqlite:///{instance_path / 'portal.sqlite'}"
    settings = Settings(**known)
    validate(settings)
    return settings


def _read_instance_file(instance_file: Path) -> dict[str, Any]:
    """The upper-case assignments of ``portal.cfg``, by lower-case name."""
    namespace: dict[str, Any] = {}
    exec(compile(instance_file.read_text("utf-8"), str(instance_file), "exec"), namespace)  # noqa: S102
    return {k.lower(): v for k, v in namespace.items() if k.isupper()}


def _known(
    found: Mapping[str, Any], source: str, prefix: str, framework_keys: Collection[str]
) -> dict[str, Any]:
    """The settings (and retired ones) in ``found``; any other name is a ``ConfigError``."""
    log = logging.getLogger("portal")
    unknown = []
    for name in sorted(set(found) - set(_FIELDS) - set(RETIRED)):
        if name.upper() in framework_keys:
            log.warning(
                "%s%s in %s is ignored: the portal sets Flask's configuration from its own "
                "settings.",
                prefix,
                name.upper(),
                source,
            )
        else:
            unknown.append(name)
    if unknown:
        raise ConfigError(" ".join(_unknown(name, source, prefix) for name in unknown))
    return {k: v for k, v in found.items() if k in _FIELDS or k in RETIRED}


def _unknown(name: str, source: str, prefix: str) -> str:
    """The sentence that names an unknown setting and the known one it may be a misspelling of."""
    sentence = f"{prefix}{name.upper()} in {source} is not a setting of the portal."
    close = difflib.get_close_matches(name, _FIELDS, n=1)
    if close:
        sentence += f" Did you mean {prefix}{close[0].upper()}?"
    return sentence


def _warn_retired(values: dict[str, Any]) -> None:
    """Drop the retired settings from ``values``, with a warning for each one that was set."""
    for name in sorted(set(values) & set(RETIRED)):
        del values[name]
        logging.getLogger("portal").warning(
            "PORTAL_%s is no longer read and can be removed: %s.", name.upper(), RETIRED[name]
        )


def validate(settings: Settings) -> None:
    """Refuse to start with settings that would run the portal unsafely or not at all."""
    if not settings.secret_key:
        if not (settings.debug or settings.testing):
            raise ConfigError(
                "PORTAL_SECRET_KEY is not set. Generate one with "
                "`python -c 'import secrets; print(secrets.token_hex(32))'` and set it in the "
                "environment or in instance/portal.cfg."
            )
    elif len(settings.secret_key) < 32 and not settings.testing:
        raise ConfigError("PORTAL_SECRET_KEY must be at least 32 characters long.")
    if settings.ratelimit_disabled and not settings.testing:
        raise ConfigError(
            "PORTAL_RATELIMIT_DISABLED switches every rate limit off and is for the test suite "
            "only (PORTAL_TESTING); remove it."
        )
    if settings.response_days < 1 or settings.urgent_response_days < 1:
        raise ConfigError(
            "PORTAL_RESPONSE_DAYS and PORTAL_URGENT_RESPONSE_DAYS must be at least 1."
        )
    if settings.booking_horizon_days < 1 or settings.booking_lead_minutes < 0:
        raise ConfigError(
            "PORTAL_BOOKING_HORIZON_DAYS must be at least 1 and PORTAL_BOOKING_LEAD_MINUTES "
            "must not be negative."
        )
    if settings.booking_page_days < 1:
        raise ConfigError("PORTAL_BOOKING_PAGE_DAYS must be at least 1.")
    if settings.search_cache_entries < 0:
        raise ConfigError("PORTAL_SEARCH_CACHE_ENTRIES must not be negative (0 turns it off).")
    if not 0 <= settings.digest_hour <= 23:
        raise ConfigError("PORTAL_DIGEST_HOUR must be an hour from 0 to 23.")
    _validate_retention(settings)
    if not settings.public_url.startswith(("http://", "https://")):
        raise ConfigError("PORTAL_PUBLIC_URL must start with http:// or https://.")
    if (
        min(settings.resident_idle_minutes, settings.security_log_days, settings.private_link_days)
        < 1
    ):
        raise ConfigError(
            "PORTAL_RESIDENT_IDLE_MINUTES, PORTAL_SECURITY_LOG_DAYS and PORTAL_PRIVATE_LINK_DAYS"
            " must be at least 1."
        )
    _validate_debug(settings)
    _validate_mail_transport(settings)
    _validate_inbound(settings)
    _validate_abuse_limits(settings)
    _validate_keys(settings)
    _validate_operations(settings)
    _validate_page_cache(settings)


def _validate_operations(settings: Settings) -> None:
    """The metrics allow-list must parse; the readiness thresholds must be positive."""
    for entry in settings.metrics_allowed:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                f"PORTAL_METRICS_ALLOWED: {entry!r} is no address or network "
                "(e.g. 127.0.0.1, ::1, 10.0.0.0/8)."
            ) from None
    if settings.ready_outbox_backlog < 1 or settings.ready_outbox_age_minutes < 1:
        raise ConfigError(
            "PORTAL_READY_OUTBOX_BACKLOG and PORTAL_READY_OUTBOX_AGE_MINUTES must be at least 1."
        )


def _validate_page_cache(settings: Settings) -> None:
    """The page cache needs a store it knows, some memory, and an interval that is not negative."""
    uri = settings.page_cache_uri
    if uri and not uri.startswith(("memory://", "redis://", "rediss://", "unix://")):
        raise ConfigError(
            "PORTAL_PAGE_CACHE_URI must be memory://, a redis:// address, or empty (no cache)."
        )
    if settings.page_cache_size_mb < 1 or settings.page_cache_revision_seconds < 0:
        raise ConfigError(
            "PORTAL_PAGE_CACHE_SIZE_MB must be at least 1 and PORTAL_PAGE_CACHE_REVISION_SECONDS"
            " must not be negative."
        )


def _validate_abuse_limits(settings: Settings) -> None:
    """Behind HTTPS the visitor's address comes from a proxy; the limits need to know how many."""
    if settings.secure_cookies and settings.proxy_count < 1:
        raise ConfigError(
            "PORTAL_PUBLIC_URL is https://, so the portal runs behind a TLS proxy: set "
            "PORTAL_PROXY_COUNT to the number of reverse proxies in front of it (usually 1). "
            "Without it every visitor seems to come from the proxy's address and shares one "
            "rate limit."
        )
    if settings.proxy_count < 0:
        raise ConfigError("PORTAL_PROXY_COUNT must not be negative.")
    if settings.confirmation_mails_per_day < 1 or settings.bookings_per_contact < 1:
        raise ConfigError(
            "PORTAL_CONFIRMATION_MAILS_PER_DAY and PORTAL_BOOKINGS_PER_CONTACT must be at least 1."
        )
    if settings.security_txt_expires:
        try:
            datetime.fromisoformat(settings.security_txt_expires)
        except ValueError:
            raise ConfigError(
                "PORTAL_SECURITY_TXT_EXPIRES must be a date such as 2027-06-30."
            ) from None
    if not settings.security_contact.startswith(("mailto:", "https://", "tel:")):
        raise ConfigError(
            "PORTAL_SECURITY_CONTACT must be a mailto:, https:// or tel: address (RFC 9116)."
        )


def _validate_debug(settings: Settings) -> None:
    """Debug mode shows internals and tracebacks: never on a public HTTPS address."""
    if settings.debug and settings.public_url.startswith("https://"):
        raise ConfigError(
            "PORTAL_DEBUG is on while PORTAL_PUBLIC_URL is an https:// address. Debug mode is "
            "for a developer's own machine only; switch it off on a public server."
        )


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (localhost or a loopback address)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _validate_mail_transport(settings: Settings) -> None:
    """Mail leaves this machine only encrypted: plaintext SMTP is for a server on loopback."""
    if settings.mail_use_tls and settings.mail_use_ssl:
        raise ConfigError("Set only one of PORTAL_MAIL_USE_TLS (STARTTLS) and PORTAL_MAIL_USE_SSL.")
    if not (settings.mail_use_tls or settings.mail_use_ssl) and not is_loopback(
        settings.mail_server
    ):
        raise ConfigError(
            f"PORTAL_MAIL_SERVER {settings.mail_server!r} is not on this machine, so mail to it "
            "must be encrypted: set PORTAL_MAIL_USE_TLS=1 (STARTTLS, usually port 587) or "
            "PORTAL_MAIL_USE_SSL=1 (port 465)."
        )
    if settings.mail_ca_file and not Path(settings.mail_ca_file).is_file():
        raise ConfigError(f"PORTAL_MAIL_CA_FILE {settings.mail_ca_file!r} is not a file.")


def _validate_inbound(settings: Settings) -> None:
    """The inbound address must be a plain address; polling needs an interval."""
    local, _at, domain = settings.inbound_address.partition("@")
    if settings.inbound_address and (not local or not domain or "+" in local):
        raise ConfigError(
            "PORTAL_INBOUND_ADDRESS must be a plain address such as antwort@portal.example.org "
            "(without a +tag)."
        )
    if settings.imap_interval < 10:
        raise ConfigError("PORTAL_IMAP_INTERVAL must be at least 10 seconds.")
    if settings.imap_host and not settings.imap_ssl and not is_loopback(settings.imap_host):
        raise ConfigError(
            f"PORTAL_IMAP_HOST {settings.imap_host!r} is not on this machine, so residents' "
            "replies must be fetched encrypted: set PORTAL_IMAP_SSL=1 (port 993)."
        )


def _validate_retention(settings: Settings) -> None:
    """Every period is at least one day, and the warning comes before the deletion."""
    periods = (
        settings.retention_days_request,
        settings.retention_days_unclosed,
        settings.retention_days_booking,
        settings.retention_days_audit,
        settings.retention_days_outbox,
        settings.retention_days_receipt,
    )
    if min(periods) < 1:
        raise ConfigError("Every PORTAL_RETENTION_* period must be at least 1.")
    if not 0 <= settings.retention_warning_days < settings.retention_days_unclosed:
        raise ConfigError(
            "PORTAL_RETENTION_WARNING_DAYS must be at least 0 and less than "
            "PORTAL_RETENTION_DAYS_UNCLOSED."
        )
    if not 0 < len(settings.privacy_notice_version) <= 20:
        raise ConfigError("PORTAL_PRIVACY_NOTICE_VERSION must have 1 to 20 characters.")
    try:
        date.fromisoformat(settings.privacy_notice_date)
    except ValueError:
        raise ConfigError("PORTAL_PRIVACY_NOTICE_DATE must be a date such as 2026-12-03.") from None
    if settings.server_log_days < 1:
        raise ConfigError("PORTAL_SERVER_LOG_DAYS must be at least 1.")


def _validate_keys(settings: Settings) -> None:
    """Configured encryption keys need a blind-index key, and every key must be well formed."""
    if not settings.encryption_keys and not settings.blind_index_key:
        return
    if not settings.encryption_keys or not settings.blind_index_key:
        raise ConfigError(
            "PORTAL_ENCRYPTION_KEYS and PORTAL_BLIND_INDEX_KEY go together: set both, or "
            "neither (then the portal keeps its keys in instance/encryption.keys)."
        )
    try:
        for key in (*settings.encryption_keys, settings.blind_index_key):
            decode_key(key)
    except BadKey as bad:
        raise ConfigError(
            f"PORTAL_ENCRYPTION_KEYS / PORTAL_BLIND_INDEX_KEY: {bad}. Make a key with "
            "`flask --app portal keys generate`."
        ) from None
