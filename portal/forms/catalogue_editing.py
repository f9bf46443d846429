"""The catalogue editor's forms: a service, an organisation or a location, every language.

Each text field a reader sees has one input per language (``name__tr``); German is required,
the other languages are optional. :func:`to_data` and :func:`from_data` turn a form into the
dictionary a draft holds and back.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    Field,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional, ValidationError

from .. import labels
from ..i18n import CONTENT_LANGUAGES
from ..services.catalogue import COSTS, SOURCE_LANGUAGE, TOPICS, WEEKDAYS
from ..services.catalogue_editing import NAME_REQUIRED, REQUIRED_TEXT, TEXT_FIELDS
from .base import (
    BaseForm,
    EmailAddress,
    MaxLength,
    MultiCheckboxField,
    NoControlCharacters,
    SingleLine,
)

TEXT_LABELS: dict[str, Any] = {
    "name": _l("Name"),
    "alternate_name": _l("Anderer Name"),
    "description": _l("Beschreibung"),
    "eligibility_description": _l("Für wen?"),
    "application_process": _l("So bekommen Sie die Hilfe"),
    "fees_description": _l("Kosten: Erläuterung"),
    "schedule_note": _l("Hinweis zu den Öffnungszeiten"),
    "accessibility": _l("Barrierefreiheit"),
}
ONE_LINE = ("name", "alternate_name")
AGES = (0, 120)  # youngest and oldest age an offer may name
AGE_HINT = _l("Bitte geben Sie ein Alter von %(min)d bis %(max)d ein.", min=AGES[0], max=AGES[1])
HOURS_EXAMPLE = "08:00-12:00, 14:00-16:00"
SERVICE_STATUSES = {
    "active": _l("Aktiv"),
    "temporarily closed": _l("Zurzeit geschlossen"),
    "inactive": _l("Nicht aktiv"),
    "defunct": _l("Eingestellt"),
}
LOCATION_TYPES = {
    "physical": _l("Adresse zum Hingehen"),
    "postal": _l("Nur Postanschrift"),
    "virtual": _l("Ohne Adresse (Telefon, Hausbesuch)"),
}
TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$", re.ASCII)
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")


def parse_hours(raw: str) -> list[list[str]] | None:
    """ "08:00-12:00, 14:00-16:00" as ``[["08:00", "12:00"], ...]``; ``None`` when unreadable."""
    ranges: list[list[str]] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        match = TIME_RANGE.match(part)
        if not match:
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60) or (h1, m1) >= (h2, m2):
            return None
        ranges.append([f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"])
    return sorted(ranges)


class Hours:
    """Opening hours of one day, like "08:00-12:00, 14:00-16:00"."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        if field.data and parse_hours(field.data) is None:
            raise ValidationError(
                _l("Bitte schreiben Sie die Zeiten so: %(example)s.", example=HOURS_EXAMPLE)
            )


class LanguageCodes:
    """Two-letter language codes separated by commas."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        codes = [c.strip() for c in (field.data or "").split(",") if c.strip()]
        if any(not LANGUAGE_CODE.match(code) for code in codes):
            raise ValidationError(
                _l("Bitte geben Sie Sprachkürzel aus zwei Buchstaben ein, getrennt durch Kommas.")
            )


class WebAddress:
    """An address on the web, starting with https:// or http://."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        if field.data and not re.match(r"^https?://[^\s/]+\.[^\s]+$", field.data):
            raise ValidationError(_l("Bitte geben Sie eine Internetadresse mit https:// ein."))


class RecordForm(BaseForm):
    """What every editor form has: the versions the edit started from."""

    version = HiddenField()
    revision = HiddenField()

    kind = ""

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields, then the rules across languages: German name required, and a
        language with any text needs its name too."""
        valid = super().validate(extra_validators)
        if self.kind not in NAME_REQUIRED:
            return valid
        german = getattr(self, f"{REQUIRED_TEXT}__{SOURCE_LANGUAGE}")
        if not german.data:
            german.errors.append(_l("Bitte geben Sie den Namen auf Deutsch ein."))
            valid = False
        for lang in CONTENT_LANGUAGES:
            if lang == SOURCE_LANGUAGE:
                continue
            name = getattr(self, f"{REQUIRED_TEXT}__{lang}")
            others = [getattr(self, f"{f}__{lang}").data for f in TEXT_FIELDS[self.kind]]
            if any(others) and not name.data and not name.errors:
                name.errors.append(_l("Bitte geben Sie auch den Namen in dieser Sprache ein."))
                valid = False
        return valid


def _ages_in_order(form: Any) -> bool:
    low, high = form["minimum_age"], form["maximum_age"]
    if low.data is not None and high.data is not None and low.data > high.data:
        high.errors.append(_l("Das Höchstalter muss mindestens so hoch sein wie das Mindestalter."))
        return False
    return True


def _add_text_fields(form: type[RecordForm], kind: str) -> None:
    for name in TEXT_FIELDS[kind]:
        for lang in CONTENT_LANGUAGES:
            if name in ONE_LINE:
                field: Any = StringField(
                    TEXT_LABELS[name], validators=[MaxLength(200), SingleLine()]
                )
            else:
                field = TextAreaField(
                    TEXT_LABELS[name], validators=[MaxLength(5000), NoControlCharacters()]
                )
            setattr(form, f"{name}__{lang}", field)


class ServiceForm(RecordForm):
    """A service with its hours, topics, towns, languages and locations."""

    kind = "service"
    organization_id = SelectField(_l("Anbieter"), validate_choice=True)
    status = SelectField(
        _l("Status"), choices=[SelectChoice(k, v) for k, v in SERVICE_STATUSES.items()]
    )
    cost = SelectField(
        _l("Kosten"),
        choices=[SelectChoice(c, labels.COSTS[c]) for c in COSTS],
        default="unknown",  # until someone knows, the page asks readers to check
    )
    email = StringField(_l("E-Mail-Adresse"), validators=[MaxLength(254), EmailAddress()])
    url = StringField(_l("Internetseite"), validators=[MaxLength(300), WebAddress()])
    minimum_age = IntegerField(
        _l("Mindestalter"),
        validators=[
            Optional(),
            NumberRange(*AGES, AGE_HINT),
        ],
    )
    maximum_age = IntegerField(
        _l("Höchstalter"),
        validators=[
            Optional(),
            NumberRange(*AGES, AGE_HINT),
        ],
    )
    topics = MultiCheckboxField(
        _l("Themen"), choices=[SelectChoice(code, labels.CATALOGUE_TOPICS[code]) for code in TOPICS]
    )
    areas = MultiCheckboxField(_l("Für Menschen aus"))
    languages = StringField(
        _l("Sprachen des Angebots"), validators=[MaxLength(100), LanguageCodes()]
    )
    locations = MultiCheckboxField(_l("Standorte"))

    def validate(self, extra_validators: Any = None) -> bool:
        """Also check that the ages are in order."""
        valid = super().validate(extra_validators)
        return _ages_in_order(self) and valid


for _day in WEEKDAYS:
    setattr(ServiceForm, f"hours__{_day}", StringField(_day, validators=[MaxLength(100), Hours()]))
_add_text_fields(ServiceForm, "service")


class OrganizationForm(RecordForm):
    """An organisation that provides services."""

    kind = "organization"
    email = StringField(_l("E-Mail-Adresse"), validators=[MaxLength(254), EmailAddress()])
    website = StringField(_l("Internetseite"), validators=[MaxLength(300), WebAddress()])


_add_text_fields(OrganizationForm, "organization")


class LocationForm(RecordForm):
    """A place where services are delivered."""

    kind = "location"
    location_type = SelectField(
        _l("Art des Standorts"), choices=[SelectChoice(k, v) for k, v in LOCATION_TYPES.items()]
    )
    address_1 = StringField(_l("Straße und Hausnummer"), validators=[MaxLength(200), SingleLine()])
    postal_code = StringField(_l("Postleitzahl"), validators=[MaxLength(10), SingleLine()])
    city = StringField(_l("Ort"), validators=[MaxLength(100), SingleLine()])


_add_text_fields(LocationForm, "location")


class PublishForm(BaseForm):
    """Publish the draft revision the editor has seen in the preview."""

    revision = HiddenField()


FORMS: dict[str, type[RecordForm]] = {
    "service": ServiceForm,
    "organization": OrganizationForm,
    "location": LocationForm,
}
PLAIN_FIELDS = {
    "service": ("organization_id", "status", "cost", "email", "url"),
    "organization": ("email", "website"),
    "location": ("location_type", "address_1", "postal_code", "city"),
}


def to_data(form: RecordForm) -> dict[str, Any]:
    """The form's answers as a draft's dictionary."""
    kind = form.kind
    data: dict[str, Any] = {name: form[name].data or "" for name in PLAIN_FIELDS[kind]}
    data["texts"] = {
        lang: {name: form[f"{name}__{lang}"].data or "" for name in TEXT_FIELDS[kind]}
        for lang in CONTENT_LANGUAGES
        if any(form[f"{name}__{lang}"].data for name in TEXT_FIELDS[kind])
    }
    if kind == "service":
        data["minimum_age"] = form["minimum_age"].data
        data["maximum_age"] = form["maximum_age"].data
        data["topics"] = sorted(form["topics"].data or [])
        data["areas"] = sorted(form["areas"].data or [])
        codes = [c.strip() for c in (form["languages"].data or "").split(",") if c.strip()]
        data["languages"] = list(dict.fromkeys(codes))
        data["hours"] = {
            day: parse_hours(form[f"hours__{day}"].data or "") or [] for day in WEEKDAYS
        }
        data["locations"] = list(form["locations"].data or [])
    return data


def from_data(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """A draft's dictionary as the form's initial values."""
    values: dict[str, Any] = {name: data.get(name, "") for name in PLAIN_FIELDS[kind]}
    for lang, fields in data.get("texts", {}).items():
        for name, value in fields.items():
            values[f"{name}__{lang}"] = value
    if kind == "service":
        for name in ("minimum_age", "maximum_age", "topics", "areas", "locations"):
            values[name] = data.get(name)
        values["languages"] = ", ".join(data.get("languages", []))
        for day, ranges in data.get("hours", {}).items():
            values[f"hours__{day}"] = ", ".join(f"{a}-{b}" for a, b in ranges)
    return values
