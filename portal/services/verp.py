"""Signed VERP return paths: a bounce names its outbox row without any guessing."""

from __future__ import annotations

import hashlib
import hmac
import re

TAG_LENGTH = 10
_BOUNCE_TAG = re.compile(rf"^b(\d{{1,12}})-([0-9a-f]{{{TAG_LENGTH}}})$")


def _tag(secret_key: str, outbox_id: int) -> str:
    """A short HMAC of the outbox id, so nobody can forge a bounce for another row."""
    digest = hmac.new(secret_key.encode(), f"bounce:{outbox_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:TAG_LENGTH]


def return_path(inbound_address: str, secret_key: str, outbox_id: int) -> str:
    """The envelope sender for outbox row ``outbox_id``: ``local+b<id>-<tag>@domain``."""
    local, _at, domain = inbound_address.rpartition("@")
    return f"{local}+b{outbox_id}-{_tag(secret_key, outbox_id)}@{domain}"


def outbox_id(address: str, inbound_address: str, secret_key: str) -> int | None:
    """The outbox row a VERP address names, or ``None`` unless its tag is genuine."""
    local, _at, domain = address.strip().strip("<>").lower().rpartition("@")
    base_local, _at, base_domain = inbound_address.lower().rpartition("@")
    base, plus, extension = local.partition("+")
    if not plus or base != base_local or domain != base_domain:
        return None
    match = _BOUNCE_TAG.match(extension)
    if match is None:
        return None
    number = int(match.group(1))
    return number if hmac.compare_digest(match.group(2), _tag(secret_key, number)) else None
