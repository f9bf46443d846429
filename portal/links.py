"""Absolute links on the configured public address, for emails and pages alike."""

import re
from typing import Any

from flask import current_app, url_for

from .config import settings_of


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` on ``PORTAL_PUBLIC_URL``, whatever host was asked."""
    base = settings_of(current_app).public_url.rstrip("/")
    return str(base + url_for(endpoint, **values))


# What people write into a phone number for the eye: spaces, hyphens, slashes, brackets, dots.
_PHONE_PUNCTUATION = re.compile(r"[\s\-/().]")


def tel_href(number: str) -> str:
    """The ``tel:`` link of a phone number as shown ("05246 961-0" → "tel:052469610").

    A leading ``+`` stays; the "(0)" written after a country code ("+49 (0)5246 …") is not
    dialled, so it goes too. The Jinja filter ``tel``.
    """
    number = number.strip()
    if number.startswith("+"):
        number = number.replace("(0)", "")
    digits = _PHONE_PUNCTUATION.sub("", number)
    return "tel:" + ("+" if number.startswith("+") else "") + digits.replace("+", "")
