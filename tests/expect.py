"""What a test expects to be there: a missing value, pattern or mail body fails the test at
that point, with a message, and the value comes back narrowed for the type checker."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import TypeVar

T = TypeVar("T")


def present(value: T | None, what: str = "the value") -> T:
    """``value``, which must not be None."""
    assert value is not None, f"{what} is missing"
    return value


def match_in(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """The first match of ``pattern`` in ``text``; the test fails when there is none."""
    return present(re.search(pattern, text, flags), repr(pattern))


def body_of(message: EmailMessage, subtype: str) -> str:
    """The text of the message's ``plain`` or ``html`` body; the test fails when it has none."""
    return str(present(message.get_body((subtype,)), f"the {subtype} body").get_content())
