"""The figures page's filter: a period of months and a town."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, ValidationError

from .base import BaseForm


class FiguresFilterForm(BaseForm):
    """Choose the months and the town of the figures (a GET form, so no CSRF token)."""

    class Meta:
        """GET forms change nothing and carry no token."""

        csrf = False

    first = SelectField(_l("Von Monat"), validate_choice=False)
    last = SelectField(_l("Bis Monat"), validate_choice=False)
    town = SelectField(_l("Ort"), validate_choice=False)

    def validate_last(self, field: SelectField) -> None:
        """The period runs forwards."""
        if self.first.data and field.data and field.data < self.first.data:
            raise ValidationError(_l("Der letzte Monat darf nicht vor dem ersten Monat liegen."))
