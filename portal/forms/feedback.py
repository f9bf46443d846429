"""The feedback form of the accessibility statement."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from .base import BaseForm, EmailAddress, MaxLength, NoControlCharacters, SingleLine, honeypot_field


class FeedbackForm(BaseForm):
    """Report a barrier on the portal."""

    message = TextAreaField(
        _l("Welche Barriere haben Sie gefunden?"),
        validators=[
            DataRequired(_l("Bitte beschreiben Sie, was nicht funktioniert hat.")),
            MaxLength(2000),
            NoControlCharacters(),
        ],
    )
    page = StringField(
        _l("Auf welcher Seite? (freiwillig)"), validators=[Optional(), MaxLength(200), SingleLine()]
    )
    email = EmailField(
        _l("Ihre E-Mail-Adresse für eine Antwort (freiwillig)"),
        validators=[Optional(), MaxLength(254), EmailAddress()],
    )
    website = honeypot_field()
