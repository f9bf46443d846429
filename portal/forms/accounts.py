"""Forms of the staff accounts: inviting, roles, activation links and one's own password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from .. import labels
from ..models.staff import ROLES
from .base import BaseForm, EmailAddress, MaxLength, MultiCheckboxField, SingleLine

TOWN_NEEDED = _l(
    "Bitte wählen Sie mindestens einen Ort. Sachbearbeitende arbeiten für einen Ort oder mehrere."
)


def _role_field() -> RadioField:
    return RadioField(
        _l("Rolle"),
        choices=[SelectChoice(code, labels.ROLE_NAMES[code]) for code in ROLES],
        validators=[InputRequired(_l("Bitte wählen Sie eine Rolle."))],
    )


def _towns_field() -> MultiCheckboxField:
    return MultiCheckboxField(_l("Orte (nur für Sachbearbeitung)"), validate_choice=True)


def _check_towns(form: RoleForm | InviteForm, field: MultiCheckboxField) -> None:
    """Caseworkers read only their towns' requests, so they need at least one."""
    if form.role.data == "caseworker" and not field.data:
        raise ValidationError(TOWN_NEEDED)


class RoleForm(BaseForm):
    """Role and towns of an account; a caseworker needs a town (choices set by the view)."""

    role = _role_field()
    towns = _towns_field()
    validate_towns = _check_towns


class InviteForm(BaseForm):
    """Invite a colleague: name, email address, role and towns."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Bitte geben Sie den Namen ein.")),
            MaxLength(120),
            SingleLine(),
        ],
    )
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(_l("Bitte geben Sie die E-Mail-Adresse ein.")),
            MaxLength(254),
            EmailAddress(),
        ],
    )
    role = _role_field()
    towns = _towns_field()
    validate_towns = _check_towns


class ActivationForm(BaseForm):
    """A new password (twice) and the first one-time code; the view drops what is not asked."""

    password = PasswordField(
        _l("Neues Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie ein neues Passwort ein.")), MaxLength(128)],
    )
    password_again = PasswordField(
        _l("Neues Passwort noch einmal"),
        validators=[DataRequired(_l("Bitte geben Sie das neue Passwort noch einmal ein."))],
    )
    code = StringField(
        _l("Code aus der Authenticator-App"),
        validators=[
            DataRequired(_l("Bitte geben Sie den sechsstelligen Code ein.")),
            MaxLength(10),
        ],
    )

    def validate_password_again(self, field: PasswordField) -> None:
        """Both entries must match, so nobody locks themselves out with a typo."""
        if field.data != self.password.data:
            raise ValidationError(_l("Die beiden Passwörter sind nicht gleich."))


class PasswordChangeForm(BaseForm):
    """Change one's own password: the current one first."""

    current = PasswordField(
        _l("Jetziges Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr jetziges Passwort ein.")), MaxLength(128)],
    )
    password = PasswordField(
        _l("Neues Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie ein neues Passwort ein.")), MaxLength(128)],
    )
    password_again = PasswordField(
        _l("Neues Passwort noch einmal"),
        validators=[DataRequired(_l("Bitte geben Sie das neue Passwort noch einmal ein."))],
    )

    def validate_password_again(self, field: PasswordField) -> None:
        """Both entries must match."""
        if field.data != self.password.data:
            raise ValidationError(_l("Die beiden Passwörter sind nicht gleich."))
