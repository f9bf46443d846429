"""Encryption at rest: the key ring, authenticated encryption of values, and blind indexes.

Every value a resident or a colleague typed about a person is stored encrypted with
AES-256-GCM (a fresh 96-bit nonce per value) under a key that is not in the database: the
``ENCRYPTION_KEYS`` setting, or ``encryption.keys`` in the instance folder, created with
mode 0600 on first start when nothing is configured. The first key encrypts; every key in
the ring decrypts, so old rows stay readable while ``flask --app portal keys rotate`` moves
them to the newest key.

A stored text value reads ``E1:<key id>:<base64url(nonce || ciphertext || tag)>``; bytes
are ``b"E1:" + key id + b":" + nonce || ciphertext || tag``. The key id (8 hex digits,
derived from the key) lets ``keys status`` count rows per key in SQL without decrypting.

Exact lookups (the same email address or phone number) use a keyed HMAC-SHA256 of the
normalised value, a "blind index", under a separate key that rotation never changes.

The ring travels with the SQLAlchemy engine (on its dialect), so the column types reach it
wherever the engine is used: web requests, CLI commands, the delivery worker, migrations.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "E1:"
BYTES_PREFIX = PREFIX.encode("ascii")
KEY_ID_LENGTH = 8
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_FILE = "encryption.keys"
DIALECT_ATTRIBUTE = "portal_keyring"


class CryptoError(Exception):
    """Base class of the key ring's errors."""


class KeysMissing(CryptoError):
    """No key ring is attached to the engine that stores or reads an encrypted value."""


class UnknownKey(CryptoError):
    """A value was encrypted under a key that is not in the ring (removed too early?)."""


class Tampered(CryptoError):
    """A stored value is not a ciphertext of ours, or it was changed after encryption."""


class BadKey(CryptoError):
    """A configured key is not 32 bytes of URL-safe base64."""


def new_key() -> str:
    """A fresh random 256-bit key, as URL-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def decode_key(text: str) -> bytes:
    """The 32 bytes of a key written as URL-safe base64; :class:`BadKey` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise BadKey("a key is not valid URL-safe base64") from None
    if len(raw) != KEY_BYTES:
        raise BadKey(f"a key must be {KEY_BYTES} bytes, this one has {len(raw)}")
    return raw


def key_id(key: bytes) -> str:
    """A short public name of ``key``: it tells keys apart without revealing them."""
    return hashlib.sha256(b"soziales-duo key id\x00" + key).hexdigest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class KeyRing:
    """The encryption keys (newest first) and the blind-index key."""

    keys: tuple[tuple[str, AESGCM], ...]
    index_key: bytes
    source: str = ""

    @classmethod
    def from_text(cls, keys: list[str], index_key: str, source: str = "") -> KeyRing:
        """Build a ring from base64 keys (the first one encrypts) and a base64 index key."""
        if not keys:
            raise BadKey("at least one encryption key is needed")
        decoded = [decode_key(text) for text in keys]
        return cls(
            keys=tuple((key_id(raw), AESGCM(raw)) for raw in decoded),
            index_key=decode_key(index_key),
            source=source,
        )

    @property
    def current_id(self) -> str:
        """The id of the key that encrypts new values."""
        return self.keys[0][0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of every key in the ring, newest first."""
        return tuple(kid for kid, _cipher in self.keys)

    def _cipher(self, kid: str) -> AESGCM:
        for candidate, cipher in self.keys:
            if candidate == kid:
                return cipher
        raise UnknownKey(f"a value is encrypted under key {kid}, which is not in the ring")

    def encrypt_bytes(self, plain: bytes) -> bytes:
        """``plain`` encrypted under the newest key, with its key id in front."""
        kid, cipher = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        return (
            BYTES_PREFIX + kid.encode("ascii") + b":" + nonce + cipher.encrypt(nonce, plain, None)
        )

    def decrypt_bytes(self, stored: bytes) -> bytes:
        """The plaintext of a value made by :meth:`encrypt_bytes`, under whichever key."""
        head = len(BYTES_PREFIX)
        if (
            not stored.startswith(BYTES_PREFIX)
            or stored[head + KEY_ID_LENGTH : head + KEY_ID_LENGTH + 1] != b":"
        ):
            raise Tampered("a stored value is not encrypted")
        kid = stored[head : head + KEY_ID_LENGTH].decode("ascii", "replace")
        body = stored[head + KEY_ID_LENGTH + 1 :]
        return self._open(kid, body)

    def encrypt_text(self, plain: str) -> str:
        """``plain`` encrypted under the newest key, as ASCII text."""
        kid, cipher = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + cipher.encrypt(nonce, plain.encode("utf-8"), None)
        return f"{PREFIX}{kid}:{base64.urlsafe_b64encode(sealed).decode('ascii')}"

    def decrypt_text(self, stored: str) -> str:
        """The plaintext of a value made by :meth:`encrypt_text`, under whichever key."""
        head = len(PREFIX)
        if (
            not stored.startswith(PREFIX)
            or stored[head + KEY_ID_LENGTH : head + KEY_ID_LENGTH + 1] != ":"
        ):
            raise Tampered("a stored value is not encrypted")
        kid = stored[head : head + KEY_ID_LENGTH]
        try:
            body = base64.urlsafe_b64decode(stored[head + KEY_ID_LENGTH + 1 :].encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise Tampered("a stored value is not valid base64") from None
        return self._open(kid, body).decode("utf-8")

    def _open(self, kid: str, body: bytes) -> bytes:
        cipher = self._cipher(kid)
        if len(body) < NONCE_BYTES + 16:
            raise Tampered(f"a value under key {kid} is too short to be a ciphertext")
        try:
            return cipher.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], None)
        except InvalidTag:
            raise Tampered(f"a value under key {kid} fails its authentication tag") from None

    def blind_index(self, kind: str, value: str) -> str:
        """The keyed hash of a normalised ``value`` for exact lookups; "" for an empty one."""
        normal = normalise(kind, value)
        if not normal:
            return ""
        message = f"{kind}\x00{normal}".encode()
        return hmac.new(self.index_key, message, hashlib.sha256).hexdigest()


def normalise(kind: str, value: str) -> str:
    """The form of an email address or phone number that lookups compare."""
    value = value.strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        if value.startswith("+"):
            digits = "00" + digits
        if digits.startswith("0049"):
            digits = "0" + digits[4:]
        return digits
    raise ValueError(f"unknown blind index kind {kind!r}")


# --- Where the keys come from ----------------------------------------------------------------


KEY_FILE_HEADER = """\
# Encryption keys of the Soziales Duo portal, created {created}.
# Keep this file secret and back it up apart from the database: without it nothing
# encrypted can be read again. Never put it in the database or a repository.
# "index": the key of the blind indexes (exact lookups of email and phone). Never change it.
# "key": the first key encrypts new values, every key decrypts. To rotate: add a new key with
# `flask --app portal keys generate --add`, run `flask --app portal keys rotate`, and remove
# the old key with `flask --app portal keys retire KEYID` once `keys status` shows it unused.
"""


def parse_key_file(text: str) -> tuple[list[str], str]:
    """The encryption keys (in order) and the index key written in a key file."""
    keys: list[str] = []
    index = ""
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        label, _space, value = line.partition(" ")
        if label == "key":
            keys.append(value.strip())
        elif label == "index" and not index:
            index = value.strip()
        else:
            raise BadKey(f"line {number} of the key file is neither 'key …' nor 'index …'")
    if not index:
        raise BadKey("the key file has no 'index' line")
    return keys, index


def write_key_file(path: Path, keys: list[str], index: str) -> None:
    """Write the key file with mode 0600, replacing it atomically."""
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [KEY_FILE_HEADER.format(created=created), f"index {index}"]
    lines += [f"key {key}" for key in keys]
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(temporary, path)


def create_key_file(path: Path) -> bool:
    """Create a key file with one fresh key unless one exists; whether it was created.

    ``O_EXCL`` makes two processes starting at once agree on one file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    content = KEY_FILE_HEADER.format(created=created) + f"index {new_key()}\nkey {new_key()}\n"
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)
    return True


def load_keyring(configured: tuple[str, ...], index_key: str, instance_path: Path) -> KeyRing:
    """The ring from configuration, else from the instance key file (created if missing)."""
    if configured:
        return KeyRing.from_text(list(configured), index_key, source="configuration")
    path = instance_path / KEY_FILE
    create_key_file(path)
    if path.stat().st_mode & 0o077:
        raise BadKey(f"{path} can be read by others; run `chmod 600 {path}`")
    keys, index = parse_key_file(path.read_text("utf-8"))
    return KeyRing.from_text(keys, index, source=str(path))


# --- The ring on an engine ---------------------------------------------------------------------


def attach(engine: Any, ring: KeyRing) -> None:
    """Give every connection of ``engine`` (and its execution-option copies) the key ring."""
    setattr(engine.dialect, DIALECT_ATTRIBUTE, ring)


def ring_of(dialect: Any) -> KeyRing:
    """The key ring attached to ``dialect``; :class:`KeysMissing` if there is none."""
    ring: KeyRing | None = getattr(dialect, DIALECT_ATTRIBUTE, None)
    if ring is None:
        raise KeysMissing(
            "this database engine has no encryption keys; create it through portal.db.Database"
        )
    return ring
