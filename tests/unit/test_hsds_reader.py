"""Reading a catalogue file: every object knows its line, and a broken record is named by it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portal.i18n import CONTENT_LANGUAGES
from portal.services import hsds
from tests import catalogue_data


def _towns(data: dict[str, Any]) -> dict[str, str]:
    areas = [a for s in data["services"] for a in s.get("service_areas", [])]
    return {area["name"]: area["name"].lower() for area in areas}


def _problems(data: dict[str, Any], text: str | None = None) -> list[hsds.Problem]:
    source = json.dumps(data, indent=1) if text is None else text
    with pytest.raises(hsds.ImportRefused) as refused:
        hsds.read_dataset(source, _towns(data), CONTENT_LANGUAGES)
    return refused.value.problems


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def test_every_object_knows_the_line_its_brace_opens_on() -> None:
    text = (
        '{"a": "text with { and } and \\" and \\\\",\n'
        ' "list": [{"b": 1},\n'
        '  {"c": "}}}", "d": {\n'
        '   "e": "{"}}],\n'
        ' "f": {}\n'
        "}"
    )
    parsed = hsds.parse_located(text)
    assert isinstance(parsed, hsds.Located) and parsed.line == 1
    first, second = parsed["list"]
    assert (first.line, second.line, second["d"].line, parsed["f"].line) == (2, 3, 3, 5)
    assert parsed == json.loads(text)


def test_a_broken_record_is_named_by_its_own_line_after_braces_in_text() -> None:
    data = catalogue_data.dataset()
    data["organizations"][0]["description"] = 'Klammern { } }} und "Zitate" \\ im Text'
    data["services"][2]["phones"] = [{"id": catalogue_data.uid("phone"), "number": ""}]
    text = json.dumps(data, indent=1)
    phone_line = _line_of(text, f'"id": "{catalogue_data.uid("phone")}"') - 1
    assert _problems(data, text) == [hsds.Problem(phone_line, "'number' is required")]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_a_number_that_is_no_number_is_not_an_age(number: str) -> None:
    data = catalogue_data.dataset()
    data["services"][0]["minimum_age"] = "AGE"
    text = json.dumps(data, indent=1).replace('"AGE"', number)
    assert [p.message for p in _problems(data, text)] == ["'minimum_age' must be an age in years"]


def test_invalid_json_is_refused_at_its_line() -> None:
    data = catalogue_data.dataset()
    text = json.dumps(data, indent=1).replace('"status": "active"', '"status": active', 1)
    assert _problems(data, text) == [
        hsds.Problem(_line_of(text, "active,"), "not valid JSON: Expecting value")
    ]


@pytest.mark.parametrize("bracket", ["[", '{"a": '])
def test_a_file_nested_too_deeply_is_refused_at_its_line_not_a_crash(bracket: str) -> None:
    data = catalogue_data.dataset()
    data["services"][1]["nested"] = "DEEP"
    closing = "]" if bracket == "[" else "}"
    deep = bracket * 5000 + "1" + closing * 5000
    text = json.dumps(data, indent=1).replace('"DEEP"', deep)
    problem = hsds.Problem(_line_of(text, deep), "not valid JSON: nested too deeply")
    assert _problems(data, text) == [problem]
