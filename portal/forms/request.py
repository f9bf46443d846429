"""One form per page of the help request."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from .. import labels
from ..models import ConsultationLocation
from ..services import choices
from .base import (
    BaseForm,
    EmailAddress,
    MaxLength,
    MultiCheckboxField,
    NoControlCharacters,
    PhoneNumber,
    SingleLine,
    honeypot_field,
    is_number,
)


def _options(codes: tuple[str, ...], names: dict[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(code, names[code]) for code in codes]


def contact_choices(offices: list[ConsultationLocation]) -> list[SelectChoice]:
    """How we may get in touch: call back, an appointment at each office, a home visit."""
    by_code = {office.code: office for office in offices}
    return [
        SelectChoice(
            method, labels.contact_method(method, by_code.get(choices.office_code(method)))
        )
        for method in choices.contact_methods(list(by_code))
    ]


class WhoForm(BaseForm):
    """Who needs help: me, or someone else."""

    who = RadioField(
        _l("Für wen fragen Sie?"),
        choices=[
            SelectChoice("me", _l("Für mich")),
            SelectChoice("other", _l("Für eine andere Person")),
        ],
        validators=[InputRequired(_l("Bitte wählen Sie aus, für wen Sie fragen."))],
    )


# The answer to "may you ask for the person?" that ends the request: nothing is stored.
NO_AUTHORITY = "no"


class RelationForm(BaseForm):
    """Asking for someone else: who they are to you, and on what authority.

    "No / I don't know" is a choice too: it leads to a page that explains what to do instead.
    """

    subject_name = StringField(
        _l("Name der Person, die Hilfe braucht"),
        validators=[
            DataRequired(_l("Bitte geben Sie den Namen der Person ein.")),
            MaxLength(120),
            SingleLine(),
        ],
    )
    relationship = RadioField(
        _l("Wie stehen Sie zu der Person?"),
        choices=_options(choices.RELATIONSHIPS, labels.RELATIONSHIPS),
        validators=[InputRequired(_l("Bitte wählen Sie aus, wie Sie zu der Person stehen."))],
    )
    authority = RadioField(
        _l("Dürfen Sie für die Person fragen?"),
        choices=[
            *_options(choices.AUTHORITIES, labels.AUTHORITIES),
            SelectChoice(NO_AUTHORITY, labels.NO_AUTHORITY),
        ],
        validators=[
            InputRequired(_l("Bitte wählen Sie aus, ob Sie für die Person fragen dürfen."))
        ],
    )


class TownForm(BaseForm):
    """Where the person who needs help lives."""

    town = RadioField(
        _l("Wo wohnt die Person, die Hilfe braucht?"),
        validators=[InputRequired(_l("Bitte wählen Sie aus, wo die Person wohnt."))],
    )


# The longest texts residents may write (also shown to them as a hint).
NEED_MAX = 2000
NOTE_MAX = 500


class TopicsForm(BaseForm):
    """What the request is about; several topics are allowed."""

    topics = MultiCheckboxField(
        _l("Wobei brauchen Sie Hilfe?"),
        choices=_options(choices.TOPICS, labels.TOPICS),
        validators=[DataRequired(_l("Bitte wählen Sie mindestens ein Thema aus."))],
    )

    def __init__(self, *args: Any, for_other: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if for_other:
            self.topics.label.text = str(_l("Wobei braucht die Person Hilfe?"))


class NeedForm(BaseForm):
    """The need in the person's own words."""

    need = TextAreaField(
        _l("Beschreiben Sie Ihr Anliegen in eigenen Worten"),
        validators=[
            DataRequired(_l("Bitte beschreiben Sie kurz, wobei Sie Hilfe brauchen.")),
            MaxLength(NEED_MAX),
            NoControlCharacters(),
        ],
    )

    def __init__(self, *args: Any, for_other: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if for_other:
            self.need.validators = [
                DataRequired(_l("Bitte beschreiben Sie kurz, wobei die Person Hilfe braucht.")),
                MaxLength(NEED_MAX),
                NoControlCharacters(),
            ]


class UrgencyForm(BaseForm):
    """How urgent the request is."""

    urgency = RadioField(
        _l("Wie dringend ist es?"),
        choices=_options(choices.URGENCIES, labels.URGENCIES),
        validators=[InputRequired(_l("Bitte wählen Sie aus, wie dringend es ist."))],
    )


class ContactForm(BaseForm):
    """How the Soziales Duo should get in touch."""

    contact_method = RadioField(
        _l("Wie sollen wir Kontakt aufnehmen?"),
        choices=_options(choices.CONTACT_METHODS, labels.CONTACT_METHODS),
        validators=[InputRequired(_l("Bitte wählen Sie aus, wie wir Kontakt aufnehmen sollen."))],
    )


class TimesForm(BaseForm):
    """When the person can best be reached."""

    contact_days = MultiCheckboxField(
        _l("An welchen Tagen passt es Ihnen?"), choices=_options(choices.DAYS, labels.DAYS)
    )
    contact_times = MultiCheckboxField(
        _l("Zu welcher Tageszeit passt es Ihnen?"), choices=_options(choices.TIMES, labels.TIMES)
    )


class LanguageForm(BaseForm):
    """The language for the conversation, and whether an interpreter is needed."""

    language = SelectField(
        _l("In welcher Sprache möchten Sie sprechen?"),
        choices=_options(choices.LANGUAGES, labels.LANGUAGES),
        validators=[InputRequired(_l("Bitte wählen Sie eine Sprache aus."))],
    )
    interpreter = RadioField(
        _l("Brauchen Sie eine Dolmetscherin oder einen Dolmetscher?"),
        choices=[SelectChoice("no", _l("Nein")), SelectChoice("yes", _l("Ja"))],
        validators=[
            InputRequired(_l("Bitte wählen Sie aus, ob Sie Hilfe beim Dolmetschen brauchen."))
        ],
    )


class AccessibilityForm(BaseForm):
    """Accessibility needs for the contact; everything optional."""

    accessibility = MultiCheckboxField(
        _l("Was sollen wir beim Kontakt beachten?"),
        choices=_options(choices.ACCESSIBILITY, labels.ACCESSIBILITY),
    )
    accessibility_note = TextAreaField(
        _l("Möchten Sie uns noch etwas dazu sagen? (freiwillig)"),
        validators=[Optional(), MaxLength(NOTE_MAX), NoControlCharacters()],
    )

    def __init__(self, *args: Any, for_other: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if for_other:
            self.accessibility.choices = _options(
                choices.ACCESSIBILITY, labels.accessibility_labels(on_behalf=True)
            )


class DetailsForm(BaseForm):
    """How to reach the person: phone and/or email; an address only for a home visit."""

    name = StringField(
        _l("Ihr Name"),
        validators=[
            DataRequired(_l("Bitte geben Sie Ihren Namen ein.")),
            MaxLength(120),
            SingleLine(),
        ],
    )
    phone = TelField(_l("Telefonnummer"), validators=[Optional(), MaxLength(40), PhoneNumber()])
    email = EmailField(
        _l("E-Mail-Adresse"), validators=[Optional(), MaxLength(254), EmailAddress()]
    )
    street = StringField(_l("Straße und Hausnummer"), validators=[MaxLength(120), SingleLine()])
    postcode = StringField(_l("Postleitzahl"), validators=[MaxLength(10), SingleLine()])
    city = StringField(_l("Ort"), validators=[MaxLength(80), SingleLine()])

    # What we say when the chosen contact needs a phone number and none was given.
    phone_required = _l(
        "Für einen Rückruf brauchen wir Ihre Telefonnummer. Bitte geben Sie eine "
        "Telefonnummer ein oder wählen Sie eine andere Art des Kontakts."
    )

    def __init__(
        self, *args: Any, needs_address: bool = False, needs_phone: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.needs_address = needs_address
        self.needs_phone = needs_phone

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields' own checks, then: at least one way to reach the person, and a phone
        number when we are to call.

        Checked here, not as ``validate_email``: the email field's ``Optional`` ends its
        chain when it is empty, so an inline check there never saw the empty case.
        """
        valid = super().validate(extra_validators)
        if self.phone.errors or self.email.errors:
            return valid
        if self.needs_phone and not (self.phone.data or "").strip():
            self.phone.errors = [*self.phone.errors, self.phone_required]
            return False
        if not (self.phone.data or "").strip() and not (self.email.data or "").strip():
            self.email.errors = [
                *self.email.errors,
                _l("Bitte geben Sie eine Telefonnummer oder eine E-Mail-Adresse ein."),
            ]
            return False
        return valid

    def validate_street(self, field: StringField) -> None:
        """For a home visit we need the address."""
        if self.needs_address and not field.data:
            raise ValidationError(
                _l("Für einen Besuch zu Hause brauchen wir Straße und Hausnummer.")
            )

    def validate_postcode(self, field: StringField) -> None:
        """A five-digit German postcode, required for a home visit."""
        if self.needs_address and not field.data:
            raise ValidationError(_l("Bitte geben Sie die Postleitzahl ein."))
        if field.data and not (len(field.data) == 5 and is_number(field.data)):
            raise ValidationError(
                _l("Eine Postleitzahl hat fünf Ziffern, zum Beispiel %(example)s.", example="33415")
            )

    def validate_city(self, field: StringField) -> None:
        """The place, required for a home visit."""
        if self.needs_address and not field.data:
            raise ValidationError(_l("Bitte geben Sie den Ort ein."))


class CheckForm(BaseForm):
    """Check your answers, confirm having read the privacy notice (not consent), send."""

    consent = BooleanField(
        _l("Ich habe die Datenschutzerklärung gelesen."),
        validators=[
            DataRequired(
                _l("Bitte bestätigen Sie, dass Sie die Datenschutzerklärung gelesen haben.")
            )
        ],
    )
    website = honeypot_field()


class AddInformationForm(BaseForm):
    """Further information for an open request, from its status page."""

    text = TextAreaField(
        _l("Was möchten Sie ergänzen?"),
        validators=[
            DataRequired(_l("Bitte schreiben Sie, was Sie ergänzen möchten.")),
            MaxLength(NEED_MAX),
            NoControlCharacters(),
        ],
    )


class WithdrawForm(BaseForm):
    """Withdraw the request; needs a tick to confirm."""

    confirm = BooleanField(
        _l("Ja, ich möchte meine Anfrage zurückziehen."),
        validators=[
            DataRequired(_l("Bitte bestätigen Sie, dass Sie die Anfrage zurückziehen möchten."))
        ],
    )


class EraseForm(BaseForm):
    """Withdraw the request and delete everything the portal stored; needs a tick to confirm."""

    confirm = BooleanField(
        _l("Ja, löschen Sie meine Anfrage und alle meine Angaben."),
        validators=[
            DataRequired(_l("Bitte bestätigen Sie, dass wir Ihre Angaben löschen sollen."))
        ],
    )
