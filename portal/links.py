"""Absolute links on the configured public address, for emails and pages alike."""

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` on ``PORTAL_PUBLIC_URL``, whatever host was asked."""
    base = current_app.extensions["portal.settings"].public_url.rstrip("/")
    return str(base + url_for(endpoint, **values))
