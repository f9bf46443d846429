"""The portal's quick select widget writes exactly the markup WTForms' own select writes."""

from __future__ import annotations

from flask import Flask
from wtforms import Form, SelectChoice, SelectField
from wtforms.widgets import Select

from portal.forms.base import BaseForm, QuickSelect

CHOICES = [
    SelectChoice("", "Alle Themen"),
    SelectChoice('a"<b>&', "Wohnen & <Miete>"),
    SelectChoice(True, "ja"),
    SelectChoice("ar", "العربية"),
]


class _Plain(Form):
    chosen = SelectField(choices=CHOICES, default='a"<b>&')


def test_quick_select_writes_what_wtforms_writes() -> None:
    field = _Plain().chosen
    assert QuickSelect()(field) == Select()(field)
    assert QuickSelect()(field, **{"aria-invalid": "true"}) == Select()(
        field, **{"aria-invalid": "true"}
    )
    assert (
        '<option selected value="a&#34;&lt;b&gt;&amp;">Wohnen &amp; &lt;Miete&gt;</option>'
        in str(QuickSelect()(field))
    )


def test_every_portal_form_writes_its_selects_quickly(app: Flask) -> None:
    class _Form(BaseForm):
        class Meta:
            csrf = False

        chosen = SelectField(choices=CHOICES)

    with app.test_request_context():
        assert isinstance(_Form().chosen.widget, QuickSelect)
