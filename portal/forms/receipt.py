"""The form that checks a receipt's verification code."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired

from .base import BaseForm, MaxLength, SingleLine


class VerifyForm(BaseForm):
    """The code printed on a receipt, as typed by whoever checks it."""

    code = StringField(
        _l("Prüfcode"),
        validators=[
            DataRequired(_l("Bitte geben Sie den Prüfcode von der Bestätigung ein.")),
            MaxLength(20),
            SingleLine(),
        ],
    )
