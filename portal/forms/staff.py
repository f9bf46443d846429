"""Staff forms: sign-in, the inbox filter and every step of working a request."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, Regexp, ValidationError

from .. import labels
from ..models.request import OUTCOMES
from ..services.choices import URGENCIES
from ..services.workflow import PHONE_RESULTS
from .base import BaseForm, MaxLength, MultiCheckboxField, NoControlCharacters, SingleLine

REFERENCE = r"^SD-[0-9]{4}-[0-9]{5}$"
MAX_PROPOSED = 3
REFERENCE_HINT = _l("Bitte geben Sie eine Nummer wie %(example)s ein.", example="SD-2026-00042")


class SignInForm(BaseForm):
    """Email and password."""

    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")), MaxLength(254)],
    )
    password = PasswordField(
        _l("Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein.")), MaxLength(128)],
    )


class CodeForm(BaseForm):
    """The six-digit one-time code from the authenticator app."""

    code = StringField(
        _l("Einmal-Code aus Ihrer Authenticator-App"),
        validators=[
            DataRequired(_l("Bitte geben Sie den sechsstelligen Code ein.")),
            MaxLength(20),
        ],
    )


class SecurityLogFilterForm(BaseForm):
    """Filter the security event log by kind (a GET form, so no CSRF token)."""

    class Meta:
        """GET forms change nothing and carry no token."""

        csrf = False

    kind = SelectField(_l("Art des Ereignisses"), validate_choice=False)


class InboxFilterForm(BaseForm):
    """Filter the inbox by status (a GET form, so no CSRF token)."""

    class Meta:
        """GET forms change nothing and carry no token."""

        csrf = False

    status = SelectField(_l("Status"), validate_choice=False)
    town = SelectField(_l("Ort"), validate_choice=False)
    urgency = SelectField(_l("Dringlichkeit"), validate_choice=False)
    assignee = SelectField(_l("Wer bearbeitet?"), validate_choice=False)


class EmptyForm(BaseForm):
    """A form with only the CSRF token, for buttons that change something."""


class AssignForm(BaseForm):
    """Hand the request to a colleague."""

    colleague = SelectField(_l("Kollegin oder Kollege"), coerce=int, validate_choice=True)


class WaitForm(BaseForm):
    """Mark the request as waiting."""

    waiting_for = RadioField(
        _l("Worauf wartet die Anfrage?"),
        choices=[
            SelectChoice("resident", _l("Auf die Person, die gefragt hat")),
            SelectChoice("office", _l("Auf ein anderes Amt oder eine Stelle")),
        ],
        validators=[InputRequired(_l("Bitte wählen Sie, worauf die Anfrage wartet."))],
    )


class CloseForm(BaseForm):
    """Close with an outcome."""

    outcome = RadioField(
        _l("Ergebnis"),
        choices=[SelectChoice(code, labels.OUTCOMES[code]) for code in OUTCOMES],
        validators=[InputRequired(_l("Bitte wählen Sie ein Ergebnis."))],
    )
    duplicate_of = StringField(
        _l("Nummer der ersten Anfrage (nur bei „doppelt“)"),
        validators=[
            Optional(),
            Regexp(REFERENCE, message=REFERENCE_HINT),
        ],
    )

    def validate_duplicate_of(self, field: StringField) -> None:
        """A duplicate needs the number of the request it repeats."""
        if self.outcome.data == "duplicate" and not field.data:
            raise ValidationError(_l("Bitte geben Sie die Nummer der ersten Anfrage ein."))


class UrgencyForm(BaseForm):
    """Change the urgency."""

    urgency = SelectField(
        _l("Dringlichkeit"),
        choices=[SelectChoice(code, labels.URGENCY_SHORT[code]) for code in URGENCIES],
        validate_choice=True,
    )


class ForwardForm(BaseForm):
    """Send the request to another town's team."""

    town = SelectField(_l("An welchen Ort?"), validate_choice=True)


class NoteForm(BaseForm):
    """An internal note."""

    text = TextAreaField(
        _l("Interne Notiz"),
        validators=[
            DataRequired(_l("Bitte schreiben Sie die Notiz.")),
            MaxLength(5000),
            NoControlCharacters(),
        ],
    )


class CallForm(BaseForm):
    """A phone contact, quickly recorded."""

    result = RadioField(
        _l("Wie ist der Anruf verlaufen?"),
        choices=[SelectChoice(code, labels.CALL_RESULTS[code]) for code in PHONE_RESULTS],
        validators=[InputRequired(_l("Bitte wählen Sie, wie der Anruf verlaufen ist."))],
    )
    note = TextAreaField(
        _l("Notiz zum Anruf (freiwillig)"), validators=[MaxLength(1000), NoControlCharacters()]
    )


class MessageForm(BaseForm):
    """A message to the resident, read on the status page."""

    text = TextAreaField(
        _l("Nachricht an die Person"),
        validators=[
            DataRequired(_l("Bitte schreiben Sie die Nachricht.")),
            MaxLength(5000),
            NoControlCharacters(),
        ],
    )
    wait = BooleanField(_l("Auf die Antwort warten"), default=True)


class ReferralForm(BaseForm):
    """A warm hand-over to another office."""

    organization = SelectField(_l("Stelle aus „Hilfe finden“"), validate_choice=True, default="")
    office_name = StringField(_l("Oder Name der Stelle"), validators=[MaxLength(200), SingleLine()])
    passed_on = TextAreaField(
        _l("Was wurde weitergegeben?"),
        validators=[
            DataRequired(_l("Bitte schreiben Sie, was Sie weitergegeben haben.")),
            MaxLength(2000),
            NoControlCharacters(),
        ],
    )
    consent = RadioField(
        _l("Einverständnis"),
        choices=[
            SelectChoice("consent", _l("Die Person ist mit der Weitergabe einverstanden.")),
            SelectChoice("legal", _l("Die rechtliche Vertretung ist einverstanden.")),
        ],
        validators=[
            InputRequired(
                _l("Ohne Einverständnis dürfen wir nichts weitergeben. Bitte bestätigen Sie es.")
            )
        ],
    )
    follow_up_on = DateField(
        _l("Nachfragen am"),
        validators=[
            InputRequired(
                _l("Bitte geben Sie ein Datum wie %(example)s ein.", example="2026-12-24")
            )
        ],
    )

    def validate_office_name(self, field: StringField) -> None:
        """One of the two: a catalogue organisation or a typed name."""
        if not field.data and not self.organization.data:
            raise ValidationError(
                _l("Bitte wählen Sie eine Stelle aus oder schreiben Sie ihren Namen.")
            )


class BookForm(BaseForm):
    """Book one of the offered slots for the request."""

    slot = RadioField(
        _l("Freie Termine"),
        validators=[InputRequired(_l("Bitte wählen Sie einen Termin."))],
        validate_choice=False,
    )
    location = HiddenField()


class ConfirmCancelForm(BaseForm):
    """Cancel a booking of the request (the booker is told)."""


class FileMailForm(BaseForm):
    """File a message that matched nothing on a request."""

    reference = StringField(
        _l("Nummer der Anfrage"),
        validators=[
            DataRequired(REFERENCE_HINT),
            Regexp(REFERENCE, message=REFERENCE_HINT),
        ],
    )


class ProposeForm(BaseForm):
    """Propose one to three free slots to the resident, who books one of them."""

    slots = MultiCheckboxField(_l("Termine vorschlagen"), validate_choice=False)

    def validate_slots(self, field: MultiCheckboxField) -> None:
        """One to three slots, so the message stays short."""
        if not 1 <= len(field.data or []) <= MAX_PROPOSED:
            raise ValidationError(_l("Bitte wählen Sie einen bis drei Termine."))


class EraseForm(BaseForm):
    """Delete a request at the person's wish; needs a tick to confirm."""

    confirm = BooleanField(
        _l("Ja, die Person hat die Löschung verlangt. Alles zu dieser Anfrage wird gelöscht."),
        validators=[DataRequired(_l("Bitte bestätigen Sie die Löschung mit dem Häkchen."))],
    )
