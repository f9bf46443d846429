"""Catalogue records in, first step: JSON whose every object knows its line, and field checks.

An import names the line of every problem, so each JSON object remembers the line its opening
brace is on. :func:`parse_located` finds those lines with the standard decoder's public hooks:
a scan of the text lists where each object opens, in the order the decoder finishes them.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...models import utcnow
from ..catalogue import SOURCE_LANGUAGE


class Located(dict[str, Any]):
    """A JSON object that remembers the line it starts on."""

    line: int = 0


# A JSON string (escapes included) or a bracket outside one: strings are skipped whole, so a
# bracket inside text is never taken for the start or end of an object or list.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[][{}]', re.DOTALL)


def _object_lines(source: str) -> Iterator[int]:
    """The line of each object's opening brace, in the order the objects close."""
    newlines = [match.start() for match in re.finditer("\n", source)]
    opened: list[int] = []
    for match in _STRING_OR_BRACKET.finditer(source):
        found = match.group()
        if found == "{":
            opened.append(match.start())
        elif found == "}" and opened:
            yield bisect.bisect_left(newlines, opened.pop()) + 1


def parse_located(source: str) -> Any:
    """Parse JSON like :func:`json.loads`, every object a :class:`Located` with its line."""
    lines = _object_lines(source)

    def located(pairs: list[tuple[str, Any]]) -> Located:
        # The decoder calls this as it reaches each closing brace, the same order as the scan.
        record = Located(pairs)
        record.line = next(lines, 0)
        return record

    try:
        return json.JSONDecoder(object_pairs_hook=located).decode(source)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", source, _deepest(source)) from None


def _deepest(source: str) -> int:
    """Where the text first reaches its deepest nesting of objects and lists."""
    depth, deepest, at = 0, 0, 0
    for match in _STRING_OR_BRACKET.finditer(source):
        found = match.group()
        if found in ("{", "["):
            depth += 1
            if depth > deepest:
                deepest, at = depth, match.start()
        elif found in ("}", "]"):
            depth -= 1
    return at


@dataclass(frozen=True)
class Problem:
    """Something wrong in an import file, at a line."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRefused(Exception):
    """The file was not imported; nothing changed. ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = problems


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class RecordReader:
    """Collects problems while turning records into rows."""

    towns: dict[str, str]
    languages: tuple[str, ...]
    problems: list[Problem] = field(default_factory=list)

    def problem(self, record: Any, message: str) -> None:
        self.problems.append(Problem(getattr(record, "line", 0), message))

    def obj(self, record: Any, where: str) -> Located | None:
        if not isinstance(record, dict):
            self.problem(record, f"{where} must be a JSON object")
            return None
        return record if isinstance(record, Located) else Located(record)

    def items(self, record: Located, key: str) -> list[Located]:
        value = record.get(key) or []
        if not isinstance(value, list):
            self.problem(record, f"'{key}' must be a list")
            return []
        return [item for item in (self.obj(v, f"an entry of '{key}'") for v in value) if item]

    def uuid(self, record: Located, key: str = "id", required: bool = True) -> str:
        value = record.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not _UUID.match(value):
            self.problem(record, f"'{key}' must be a UUID, got {value!r}")
            return ""
        return value.lower()

    def string(self, record: Located, key: str, required: bool = False, limit: int = 0) -> str:
        value = record.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.problem(record, f"'{key}' must be a string")
            return ""
        value = value.strip()
        if required and not value:
            self.problem(record, f"'{key}' is required")
        if limit and len(value) > limit:
            self.problem(record, f"'{key}' is longer than {limit} characters")
        return value

    def pattern(self, record: Located, key: str, regex: re.Pattern[str], what: str) -> str:
        value = self.string(record, key)
        if value and not regex.match(value):
            self.problem(record, f"'{key}' is not {what}: {value!r}")
            return ""
        return value

    def age(self, record: Located, key: str) -> int | None:
        value = record.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 130:
            self.problem(record, f"'{key}' must be an age in years")
            return None
        return int(value)

    def timestamp(self, record: Located, key: str) -> datetime:
        value = record.get(key)
        if value is None:
            return utcnow()
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.problem(record, f"'{key}' must be a date-time like 2026-11-25T10:00:00Z")
            return utcnow()
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def translations(self, record: Located, fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
        value = record.get("translations") or {}
        if not isinstance(value, dict):
            self.problem(record, "'translations' must be an object of languages")
            return {}
        result: dict[str, dict[str, str]] = {}
        for lang, texts in value.items():
            if lang not in self.languages or lang == SOURCE_LANGUAGE:
                self.problem(record, f"'translations' has an unknown language {lang!r}")
                continue
            texts = self.obj(texts, f"translations.{lang}")
            if texts is None:
                continue
            unknown = sorted(set(texts) - set(fields))
            if unknown:
                self.problem(texts, f"translations.{lang} has unknown fields {unknown}")
            result[lang] = {f: self.string(texts, f) for f in fields}
        return result
