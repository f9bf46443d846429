"""Phone links: the number as shown becomes a link a phone can dial."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.links import tel_href


@pytest.mark.parametrize(
    ("shown", "href"),
    [
        ("05246 961-0", "tel:052469610"),
        ("0211 855-3451", "tel:02118553451"),
        ("(05207) 8905/12", "tel:05207890512"),
        (" 0800 111 0 111 ", "tel:08001110111"),
        ("+49 5207 8905-0", "tel:+49520789050"),
        ("+49 (0)5246 961-0", "tel:+4952469610"),
        ("0521.123 45", "tel:052112345"),
    ],
)
def test_a_phone_number_as_shown_becomes_its_tel_link(shown: str, href: str) -> None:
    assert tel_href(shown) == href


def test_templates_have_the_tel_filter(app: Flask) -> None:
    template = app.jinja_env.from_string('<a href="{{ number|tel }}">{{ number }}</a>')
    assert template.render(number="05246 961-0") == '<a href="tel:052469610">05246 961-0</a>'
