"""Staff sign-in forms."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired

from .base import BaseForm, MaxLength


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
            MaxLength(10),
        ],
    )


class InboxFilterForm(BaseForm):
    """Filter the inbox by status (a GET form, so no CSRF token)."""

    class Meta:
        """GET forms change nothing and carry no token."""

        csrf = False

    status = SelectField(_l("Status"), validate_choice=False)


class EmptyForm(BaseForm):
    """A form with only the CSRF token, for buttons that change something."""
