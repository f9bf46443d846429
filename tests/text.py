"""Finding things in pages and messages: a pattern that is missing fails the test there."""

from __future__ import annotations

import re
from email.message import EmailMessage


def match_in(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """The first match of ``pattern`` in ``text``; the test fails when there is none."""
    match = re.search(pattern, text, flags)
    assert match is not None, f"{pattern!r} not found"
    return match


def body_of(message: EmailMessage, subtype: str) -> str:
    """The text of the message's ``plain`` or ``html`` body; the test fails when it has none."""
    part = message.get_body((subtype,))
    assert part is not None, f"the message has no {subtype} body"
    return str(part.get_content())
