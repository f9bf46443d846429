"""Typed, frozen settings: defaults < instance file < ``PORTAL_*`` environment."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .crypto import BadKey, decode_key


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
    response_days: int = 3
    urgent_response_days: int = 1
    rate_limit_submit: str = "20 per hour"
    rate_limit_signin: str = "30 per 15 minutes"
    rate_limit_storage_uri: str = "memory://"
    draft_hours: int = 48
    booking_horizon_days: int = 56
    booking_lead_minutes: int = 120
    booking_page_days: int = 14
    retention_days_request: int = 180
    retention_days_audit: int = 365
    retention_days_outbox: int = 30
    resident_link_days: int = 30
    staff_idle_minutes: int = 30
    staff_absolute_hours: int = 12
    outbox_max_attempts: int = 8
    digest_hour: int = 7
    digest_send_empty: bool = False
    proxy_count: int = 0
    provider_name: str = "Stadt Verl"
    provider_representative: str = "Der Bürgermeister der Stadt Verl"
    provider_street: str = "Paderborner Straße 5"
    provider_postcode_city: str = "33415 Verl"
    provider_phone: str = "05246 961-0"
    provider_email: str = "kontakt@verl.de"
    provider_vat_id: str = ""
    supervisory_authority: str = "Landrat des Kreises Gütersloh (Kommunalaufsicht)"
    privacy_officer: str = "Datenschutzbeauftragte der Stadt Verl, Paderborner Straße 5, 33415 Verl"
    # Keys that encrypt personal data at rest (URL-safe base64, 32 bytes each): the first
    # encrypts, all decrypt. Empty: the key file instance/encryption.keys (created if missing).
    encryption_keys: tuple[str, ...] = ()
    # The key of the blind indexes (exact lookups of email and phone); needed with the above.
    blind_index_key: str = ""
    debug: bool = False
    testing: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

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


_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "extra"}


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


def load_settings(
    instance_path: Path,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Build the settings from defaults, ``instance/portal.cfg`` and ``PORTAL_*`` variables."""
    values: dict[str, Any] = {}
    instance_file = instance_path / "portal.cfg"
    if instance_file.is_file():
        namespace: dict[str, Any] = {}
        exec(compile(instance_file.read_text("utf-8"), str(instance_file), "exec"), namespace)  # noqa: S102
        values.update({k.lower(): v for k, v in namespace.items() if k.isupper()})
    env = os.environ if environ is None else environ
    for key, raw in env.items():
        if key.startswith("PORTAL_") and key[7:].lower() in _FIELDS:
            values[key[7:].lower()] = raw
    values.update(overrides or {})
    known = {k: _coerce(k, v) for k, v in values.items() if k in _FIELDS}
    extra = {k: v for k, v in values.items() if k not in _FIELDS}
    if not known.get("database_url"):
        known["database_url"] = f"sqlite:///{instance_path / 'portal.sqlite'}"
    settings = Settings(**known, extra=extra)
    validate(settings)
    return settings


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
    if not 0 <= settings.digest_hour <= 23:
        raise ConfigError("PORTAL_DIGEST_HOUR must be an hour from 0 to 23.")
    if not settings.public_url.startswith(("http://", "https://")):
        raise ConfigError("PORTAL_PUBLIC_URL must start with http:// or https://.")
    _validate_inbound(settings)
    _validate_keys(settings)


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
