"""Random tokens for private links and sessions, stored only as hashes."""

import base64
import hashlib
import hmac
import secrets


def new_token() -> str:
    """A URL-safe random token with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(token: str, stored_hash: str) -> bool:
    """Compare a token with a stored hash in constant time."""
    return hmac.compare_digest(hash_token(token), stored_hash)


def derived_token(secret: str, purpose: str, key: str) -> str:
    """A URL-safe token with 256 bits, computed from a secret ``key`` the browser holds.

    The same browser can be given the same private link again (its key is in its sealed
    session cookie) without the link being stored anywhere; without ``secret`` and ``key``
    it is as unguessable as :func:`new_token`.
    """
    digest = hmac.new(secret.encode("utf-8"), f"{purpose}:{key}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")
