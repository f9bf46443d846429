"""Forms of the staff accounts: inviting, roles, activation links and one's own password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from .. import labels
from .base import BaseForm, EmailAddress, MaxLength, SingleLine

_TOWN_NEEDED = _l("Bitte wählen Sie den Ort. Sachbearbeitende arbeiten für einen Ort.")


def _role_field() -> RadioField:
    return RadioField(
        _l("Rolle"),
        choices=[SelectChoice(code, name) for code, name in labels.ROLE_NAMES.items()],
        validators=[InputRequired(_l("Bitte wählen Sie eine Rolle."))],
    )


def _town_field() -> SelectField:
    return SelectField(_l("Ort (nur für Sachbearbeitung)"), validate_choice=True, default="")


def _check_town(form: RoleForm | InviteForm, field: SelectField) -> None:
    """Caseworkers read only their own town's requests, so they need one."""
    if form.role.data == "caseworker" and not field.data:
        raise ValidationError(_TOWN_NEEDED)


class RoleForm(BaseForm):
    """Role and town of an account; a caseworker needs a town (choices set by the view)."""

    role = _role_field()
    town = _town_field()
    validate_town = _check_town


class InviteForm(BaseForm):
    """Invite a colleague: name, email address, role and town."""

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
    town = _town_field()
    validate_town = _check_town


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
