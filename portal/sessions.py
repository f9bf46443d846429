"""The browser's session cookie: encrypted, not only signed, and short-lived for residents.

Flask's own cookie session is signed but readable: anyone at a shared computer could decode
it and find the private status or booking link of the person before. Here the whole cookie
is sealed with AES-GCM under a key derived from the secret key, ends with the browser
(no lasting cookie), and forgets a resident's pages after a short idle time.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, request, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadPayload

from .config import Settings

# What a resident's browser remembers: drafts, what was just sent or booked, and which
# request or booking a private link opened. Staff keys are not among them.
RESIDENT_KEYS = (
    "request_draft",
    "request_submitted",
    "request_status",
    "booking_draft",
    "booking_done",
    "booking_manage",
    "booking_move",
    "booking_move_taken",
)
SEEN_KEY = "resident_seen"
NONCE_BYTES = 12


def derive_key(secret: str) -> bytes:
    """The cookie encryption key, derived from the secret key (never the key itself)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal session cookie"
    ).derive(secret.encode("utf-8"))


class SealedSerializer:
    """Flask's tagged JSON, encrypted and authenticated with AES-GCM, as URL-safe text."""

    def __init__(self, key: bytes) -> None:
        self.aead = AESGCM(key)
        self.json = TaggedJSONSerializer()

    def dumps(self, value: Any) -> str:
        """Seal ``value``: a fresh random nonce, then the ciphertext with its tag."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.aead.encrypt(nonce, self.json.dumps(value).encode("utf-8"), None)
        return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def loads(self, data: str | bytes) -> Any:
        """Open a sealed value; a forged or damaged one counts as no session."""
        try:
            raw = base64.urlsafe_b64decode(data)
            plain = self.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
        except (InvalidTag, ValueError, binascii.Error) as error:
            raise BadPayload("sealed session could not be opened") from error
        return self.json.loads(plain.decode("utf-8"))


class SealedSessionInterface(SecureCookieSessionInterface):
    """The signed cookie session of Flask, with a sealing serializer."""

    def __init__(self, key: bytes) -> None:
        self.serializer = SealedSerializer(key)  # type: ignore[assignment]


def forget_resident() -> None:
    """Forget every page a resident had open in this browser (drafts, links, bookings)."""
    for name in (*RESIDENT_KEYS, SEEN_KEY):
        session.pop(name, None)


def _expire_idle(idle_seconds: int) -> None:
    """Forget a resident's pages after ``idle_seconds`` without a request; else note this one."""
    if not any(name in session for name in RESIDENT_KEYS):
        session.pop(SEEN_KEY, None)
        return
    now = int(time.time())
    seen = session.get(SEEN_KEY)
    if isinstance(seen, int) and now - seen > idle_seconds:
        forget_resident()
        return
    session[SEEN_KEY] = now


def init_app(app: Flask, settings: Settings) -> None:
    """Seal the cookie and expire idle resident sessions."""
    app.session_interface = SealedSessionInterface(derive_key(str(app.config["SECRET_KEY"])))
    idle_seconds = settings.resident_idle_minutes * 60

    @app.before_request
    def _resident_idle() -> None:
        # Static files and visitors without a cookie have nothing to forget; leaving their
        # session untouched keeps those responses free of Set-Cookie and Vary: Cookie.
        if request.endpoint == "static" or app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return
        _expire_idle(idle_seconds)
