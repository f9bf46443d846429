"""The base form, shared fields and validators with whole-sentence messages."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import Choice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, Select

# Characters that must never reach a header or a stored line: CR, LF, NUL, NEL, LS, PS.
FORBIDDEN_IN_LINE = re.compile("[\r\n\x00\u0085\u2028\u2029]")
# Bidi embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI): they
# turn what staff read around ("Trojan Source"), e.g. a name that shows as something else.
# Marks (LRM, RLM, ALM) change no order and stay allowed: Arabic keyboards type them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
BIDI_MESSAGE = _l(
    "Ihre Angabe enthält unsichtbare Zeichen, die die Schreibrichtung umdrehen. Bitte schreiben Sie die Angabe ohne diese Zeichen neu, am besten von Hand statt kopiert."
)


def is_number(text: str) -> bool:
    """Whether ``text`` is a whole number in ASCII digits (``str.isdigit`` also takes "²")."""
    return text.isascii() and text.isdigit()


def parse_number(raw: str | None, maximum: int = 10**9) -> int | None:
    """``raw`` as a whole number from 0 to ``maximum``, or ``None`` for anything else."""
    if not raw or len(raw) > len(str(maximum)) or not is_number(raw):
        return None
    value = int(raw)
    return value if value <= maximum else None


def strip_filter(value: Any) -> Any:
    """Trim surrounding whitespace and normalise Unicode so limits count what people see."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.strip())
    return value


class QuickSelect(Select):
    """WTForms' select widget, each option written in one step: the same markup in a fraction
    of the time. WTForms builds every option from a sorted dictionary of attributes and looks
    up this method's signature on every select; and a lazily translated label, asked whether
    it has ``__html__``, translates itself each time it is asked (five times per option). The
    catalogue's search form has three selects on every page of results."""

    @classmethod
    def render_option(cls, choice: Choice, **kwargs: Any) -> Markup:
        """``<option selected value="…">label</option>``, as :class:`Select` writes it."""
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value)
        label = "" if choice.label is None else str(choice.label)  # translated once
        selected = " selected" if choice.selected else ""
        # markupsafe's escape (in C) on each text, one Markup at the end: Markup's own % wraps
        # every argument in a helper object first (three times the work).
        option = f'<option{selected} value="{escape(value)}">{escape(label or value)}</option>'
        return Markup(option)  # noqa: S704 - both texts in it went through escape()

    @classmethod
    def _dispatch_render_option(cls) -> Any:
        return cls.render_option


class BaseForm(FlaskForm):
    """Every form strips whitespace from its text fields and writes its selects quickly."""

    class Meta:
        """Apply :func:`strip_filter` to every field; a plain select gets :class:`QuickSelect`."""

        def bind_field(self, form: Any, unbound_field: Any, options: Mapping[str, Any]) -> Field:
            """Add the strip filter to each field."""
            filters = [strip_filter, *unbound_field.kwargs.get("filters", [])]
            extra = {}
            if unbound_field.field_class is SelectField and "widget" not in unbound_field.kwargs:
                extra["widget"] = QuickSelect()
            return unbound_field.bind(form=form, filters=filters, **extra, **options)


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SingleLine:
    """Refuse line breaks and control characters in one-line answers."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        if field.data and BIDI_CONTROLS.search(field.data):
            raise ValidationError(BIDI_MESSAGE)
        if field.data and (FORBIDDEN_IN_LINE.search(field.data) or "\t" in field.data):
            raise ValidationError(_l("Bitte schreiben Sie die Angabe in eine Zeile."))


class NoControlCharacters:
    """Refuse invisible control characters in free text (line breaks are fine)."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        text = field.data or ""
        if BIDI_CONTROLS.search(text):
            raise ValidationError(BIDI_MESSAGE)
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
            raise ValidationError(_l("Der Text enthält Zeichen, die wir nicht speichern können."))


def normalise_phone(raw: str) -> str | None:
    """A German or international phone number in international format, or ``None``."""
    try:
        number = phonenumbers.parse(raw, "DE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number) or len(str(number.national_number)) < 6:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_email(raw: str) -> str | None:
    """A syntactically valid email address in normal form, or ``None``."""
    if FORBIDDEN_IN_LINE.search(raw) or BIDI_CONTROLS.search(raw):
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


class PhoneNumber:
    """A possible phone number; replaces the field's data with its normal form."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate and normalise ``field``."""
        if not field.data:
            return
        normal = normalise_phone(field.data)
        if normal is None:
            raise ValidationError(
                _l(
                    "Bitte geben Sie eine Telefonnummer wie %(landline)s oder %(international)s ein.",
                    landline="05246 1234567",
                    international="+49 5246 1234567",
                )
            )
        field.data = normal


class EmailAddress:
    """A valid email address; replaces the field's data with its normal form."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate and normalise ``field``."""
        if not field.data:
            return
        normal = normalise_email(field.data)
        if normal is None:
            raise ValidationError(
                _l("Bitte geben Sie eine E-Mail-Adresse wie name@beispiel.de ein.")
            )
        field.data = normal


class Honeypot:
    """A field people never see; a program that fills it in is refused."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        if field.data:
            raise ValidationError(_l("Bitte lassen Sie dieses Feld leer."))


def honeypot_field() -> StringField:
    """The hidden field that catches form-filling programs."""
    return StringField(_l("Bitte lassen Sie dieses Feld leer"), validators=[Honeypot()])


class MaxLength:
    """Refuse answers longer than ``limit`` characters, with a message in the right plural."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.field_flags = {"maxlength": limit}

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        from flask_babel import ngettext

        if field.data and len(field.data) > self.limit:
            raise ValidationError(
                ngettext(
                    "Bitte kürzen Sie Ihre Angabe auf höchstens %(num)d Zeichen.",
                    "Bitte kürzen Sie Ihre Angabe auf höchstens %(num)d Zeichen.",
                    num=self.limit,
                )
            )
