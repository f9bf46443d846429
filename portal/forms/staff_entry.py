"""Entering a request that came by phone or at the counter, on one page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from .. import labels
from ..services import choices
from ..services.requests import StaffEntry
from . import request as request_forms
from .base import MaxLength, MultiCheckboxField, NoControlCharacters, SingleLine
from .request import DetailsForm, _options


class EntryForm(DetailsForm):
    """Everything a request needs, as a colleague types it in during the call."""

    channel = RadioField(
        _l("Wie kam die Anfrage?"),
        choices=[
            SelectChoice("phone", labels.CHANNELS["phone"]),
            SelectChoice("counter", labels.CHANNELS["counter"]),
        ],
        validators=[InputRequired(_l("Bitte wählen Sie, wie die Anfrage kam."))],
    )
    town = SelectField(_l("Wo wohnt die Person, die Hilfe braucht?"), validate_choice=True)
    subject_name = StringField(
        _l("Name der Person, die Hilfe braucht (nur wenn jemand für sie fragt)"),
        validators=[MaxLength(120), SingleLine()],
    )
    relationship = SelectField(
        _l("Wie steht die anfragende Person zu der Person, die Hilfe braucht?"),
        choices=[
            SelectChoice("", _l("Bitte wählen")),
            *_options(choices.RELATIONSHIPS, labels.RELATIONSHIPS),
        ],
        validators=[Optional()],
    )
    authority = SelectField(
        _l("Darf die anfragende Person für die Person fragen, die Hilfe braucht?"),
        choices=[
            SelectChoice("", _l("Bitte wählen")),
            *_options(choices.AUTHORITIES, labels.AUTHORITIES),
        ],
        validators=[Optional()],
    )
    topics = MultiCheckboxField(
        _l("Themen"),
        choices=_options(choices.TOPICS, labels.TOPICS),
        validators=[DataRequired(_l("Bitte wählen Sie mindestens ein Thema aus."))],
    )
    need = TextAreaField(
        _l("Anliegen"),
        validators=[
            DataRequired(_l("Bitte beschreiben Sie kurz das Anliegen.")),
            MaxLength(2000),
            NoControlCharacters(),
        ],
    )
    # The same questions, answers and messages as on the resident's pages.
    urgency = request_forms.UrgencyForm.urgency
    contact_method = request_forms.ContactForm.contact_method
    language = SelectField(
        _l("Sprache für das Gespräch"),
        choices=_options(choices.LANGUAGES, labels.LANGUAGES),
        default="de",
    )
    interpreter = BooleanField(_l("Braucht eine Dolmetscherin oder einen Dolmetscher"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.name.label.text = _l("Name der anfragenden Person")
        self.needs_address = self.contact_method.data == "home_visit"

    def validate_authority(self, field: SelectField) -> None:
        """Asking for someone else needs the relationship and the authority."""
        if self.subject_name.data and not (field.data and self.relationship.data):
            raise ValidationError(
                _l(
                    "Bitte wählen Sie, wie die anfragende Person zu der Person steht, die Hilfe braucht, und ob sie für diese Person fragen darf."
                )
            )

    def entry(self) -> StaffEntry:
        """The typed-in answers as a :class:`StaffEntry`."""
        on_behalf = bool(self.subject_name.data)
        return StaffEntry(
            channel=self.channel.data or "phone",
            town_slug=self.town.data or "",
            topics=list(self.topics.data or []),
            need=self.need.data or "",
            urgency=self.urgency.data or "normal",
            contact_method=self.contact_method.data or "callback",
            language=self.language.data or "de",
            interpreter=bool(self.interpreter.data),
            name=self.name.data or "",
            phone=self.phone.data or "",
            email=self.email.data or "",
            subject_name=self.subject_name.data or "",
            relationship=(self.relationship.data or "") if on_behalf else "",
            authority=(self.authority.data or "") if on_behalf else "",
            street=self.street.data or "",
            postcode=self.postcode.data or "",
            city=self.city.data or "",
        )
