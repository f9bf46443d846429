"""One form per page of the consultation booking, and the forms to move or cancel it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError

from .. import labels
from ..services import choices
from .base import BaseForm, MaxLength, NoControlCharacters
from .request import NO_AUTHORITY, NOTE_MAX, CheckForm, DetailsForm, RelationForm, TownForm

__all__ = [
    "NO_AUTHORITY",
    "BookingDetailsForm",
    "BookingWhoForm",
    "CheckForm",
    "ConfirmForm",
    "LocationForm",
    "RelationForm",
    "SlotForm",
    "TopicForm",
    "TownForm",
]


class BookingWhoForm(BaseForm):
    """Who the appointment is for: me, or someone else."""

    who = RadioField(
        _l("Für wen ist der Termin?"),
        choices=[
            SelectChoice("me", _l("Für mich")),
            SelectChoice("other", _l("Für eine andere Person")),
        ],
        validators=[InputRequired(_l("Bitte wählen Sie aus, für wen der Termin ist."))],
    )


class LocationForm(BaseForm):
    """Where the consultation takes place; the choices come from the database."""

    location = RadioField(
        _l("Wo möchten Sie mit uns sprechen?"),
        validate_choice=False,
        validators=[InputRequired(_l("Bitte wählen Sie aus, wo wir mit Ihnen sprechen."))],
    )

    def validate_location(self, field: RadioField) -> None:
        """Only a location on the list; anything else is refused with a clear message."""
        if field.data not in {choice.value for choice in field.choices or []}:
            raise ValidationError(_l("Bitte wählen Sie einen Ort aus der Liste."))


class SlotForm(BaseForm):
    """A free slot; the view checks it against the computed free slots."""

    slot = RadioField(
        _l("Wählen Sie einen Termin"),
        validate_choice=False,
        validators=[InputRequired(_l("Bitte wählen Sie einen Termin aus."))],
    )


class TopicForm(BaseForm):
    """What the consultation is about, and an optional short note."""

    topic = RadioField(
        _l("Worum geht es?"),
        choices=[SelectChoice(code, labels.TOPICS[code]) for code in choices.TOPICS],
        validators=[InputRequired(_l("Bitte wählen Sie ein Thema aus."))],
    )
    note = TextAreaField(
        _l("Möchten Sie uns vorab kurz etwas sagen? (freiwillig)"),
        validators=[Optional(), MaxLength(NOTE_MAX), NoControlCharacters()],
    )


class BookingDetailsForm(DetailsForm):
    """How to reach the booker; a phone number for a phone appointment, an address for a visit."""

    # We call at the booked time, so a phone appointment needs a number.
    phone_required = _l("Für einen Termin am Telefon brauchen wir Ihre Telefonnummer.")


class ConfirmForm(BaseForm):
    """A button that confirms a change (cancel, move); only the CSRF token travels."""
