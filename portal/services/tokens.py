"""Random tokens for private links and sessions, stored only as hashes."""

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
