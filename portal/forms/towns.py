"""Administrator forms: a member town's facts and its consultation locations."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import LazyString, ngettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, Field, HiddenField, StringField, URLField
from wtforms.validators import DataRequired, Regexp, ValidationError

from ..services.towns import LocationFacts, TownFacts
from .base import BaseForm, EmailAddress, MaxLength, SingleLine, normalise_phone

SLUG_LENGTH = (2, 20)  # shortest and longest short name
SLUG = rf"^[a-z][a-z0-9-]{{{SLUG_LENGTH[0] - 1},{SLUG_LENGTH[1] - 1}}}$"
POSTCODE = re.compile(r"^\d{5}$", re.ASCII)


class PhoneText:
    """A possible phone number, kept as written (e.g. "05207 8905-0")."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        if field.data and normalise_phone(field.data) is None:
            raise ValidationError(
                _l(
                    "Bitte geben Sie eine Telefonnummer wie %(example)s ein.",
                    example="05207 8905-0",
                )
            )


class Postcodes:
    """One or more five-digit postcodes, separated by commas or spaces."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field`` and turn it into ``"33415, 33758"``."""
        codes = [code for code in re.split(r"[\s,;]+", field.data or "") if code]
        if not codes or not all(POSTCODE.match(code) for code in codes):
            raise ValidationError(
                _l("Bitte geben Sie fünfstellige Postleitzahlen ein, getrennt durch Kommas.")
            )
        field.data = ", ".join(dict.fromkeys(codes))


class Website:
    """An address that starts with https:// or http://."""

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        if field.data and not re.match(r"^https?://[^\s/]+\.[^\s]+$", field.data):
            raise ValidationError(
                _l("Bitte geben Sie die Internetseite mit https:// am Anfang ein.")
            )


def _postcode(field: Field) -> None:
    if field.data and not POSTCODE.match(field.data):
        raise ValidationError(_l("Bitte geben Sie eine fünfstellige Postleitzahl ein."))


class TownForm(BaseForm):
    """A member town's facts: name, postcodes, staff inbox, town hall and contact."""

    seen = HiddenField()
    name = StringField(
        _l("Name der Stadt"),
        validators=[
            DataRequired(_l("Bitte geben Sie den Namen der Stadt ein.")),
            MaxLength(80),
            SingleLine(),
        ],
    )
    postcodes = StringField(
        _l("Postleitzahlen, für die die Stadt zuständig ist"), validators=[Postcodes()]
    )
    inbox_email = EmailField(
        _l("Postfach des Teams (bekommt die neuen Anfragen)"),
        validators=[
            DataRequired(_l("Bitte geben Sie das Postfach des Teams ein.")),
            MaxLength(254),
            EmailAddress(),
        ],
    )
    street = StringField(
        _l("Straße und Hausnummer des Rathauses"),
        validators=[
            DataRequired(_l("Bitte geben Sie die Straße des Rathauses ein.")),
            MaxLength(120),
            SingleLine(),
        ],
    )
    postcode = StringField(
        _l("Postleitzahl des Rathauses"),
        validators=[DataRequired(_l("Bitte geben Sie die Postleitzahl des Rathauses ein."))],
    )
    phone = StringField(_l("Telefon"), validators=[MaxLength(40), SingleLine(), PhoneText()])
    email = EmailField(
        _l("E-Mail-Adresse für Bürgerinnen und Bürger"), validators=[MaxLength(254), EmailAddress()]
    )
    website = URLField(_l("Internetseite"), validators=[MaxLength(200), Website()])

    def validate_postcode(self, field: StringField) -> None:
        """The town hall's postcode has five digits."""
        _postcode(field)

    def facts(self) -> TownFacts:
        """The entered facts."""
        return TownFacts(
            name=self.name.data or "",
            postcodes=tuple(code.strip() for code in (self.postcodes.data or "").split(",")),
            inbox_email=self.inbox_email.data or "",
            street=self.street.data or "",
            postcode=self.postcode.data or "",
            phone=self.phone.data or "",
            email=self.email.data or "",
            website=self.website.data or "",
        )


class NewTownForm(TownForm):
    """A new member town: also its short name, which never changes."""

    slug = StringField(
        _l("Kurzname (nur kleine Buchstaben, Ziffern und Bindestrich)"),
        validators=[
            DataRequired(_l("Bitte geben Sie einen Kurznamen ein, zum Beispiel musterstadt.")),
            Regexp(
                SLUG,
                message=LazyString(
                    lambda: ngettext(
                        "Der Kurzname hat %(min)d bis %(num)d Zeichen: kleine Buchstaben, Ziffern "
                        "und Bindestrich.",
                        "Der Kurzname hat %(min)d bis %(num)d Zeichen: kleine Buchstaben, Ziffern "
                        "und Bindestrich.",
                        SLUG_LENGTH[1],
                        min=SLUG_LENGTH[0],
                    )
                ),
            ),
        ],
    )


class LocationForm(BaseForm):
    """Where a town receives people for consultations."""

    name = StringField(
        _l("Name des Ortes, zum Beispiel Rathaus Verl"),
        validators=[
            DataRequired(_l("Bitte geben Sie den Namen des Ortes ein.")),
            MaxLength(120),
            SingleLine(),
        ],
    )
    street = StringField(
        _l("Straße und Hausnummer"),
        validators=[
            DataRequired(_l("Bitte geben Sie Straße und Hausnummer ein.")),
            MaxLength(120),
            SingleLine(),
        ],
    )
    postcode = StringField(
        _l("Postleitzahl"), validators=[DataRequired(_l("Bitte geben Sie die Postleitzahl ein."))]
    )
    city = StringField(
        _l("Ort"),
        validators=[
            DataRequired(_l("Bitte geben Sie den Ort ein.")),
            MaxLength(80),
            SingleLine(),
        ],
    )
    active = BooleanField(_l("Termine an diesem Ort können gebucht werden"), default=True)

    def validate_postcode(self, field: StringField) -> None:
        """A five-digit postcode."""
        _postcode(field)

    def facts(self) -> LocationFacts:
        """The entered facts."""
        return LocationFacts(
            name=self.name.data or "",
            street=self.street.data or "",
            postcode=self.postcode.data or "",
            city=self.city.data or "",
            active=bool(self.active.data),
        )
