"""Staff forms for consultation hours: a weekly rule, ending a rule, a closure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import LazyString, ngettext
from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TimeField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from ..services.hours import ClosureFacts, RuleFacts, latest_sensible, slots_fit
from ..services.slots import BERLIN
from .base import BaseForm, MaxLength, SingleLine

# Shortest and longest appointment, in minutes.
SLOT_MINUTES = (5, 240)
DATE_HINT = _l("Bitte geben Sie ein Datum wie %(example)s ein.", example="2026-12-24")
TIME_HINT = _l("Bitte geben Sie eine Uhrzeit wie %(example)s ein.", example="09:30")


class DayField(DateField):
    """A date field whose message for an unreadable date is a whole, translated sentence."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the date, or say how to write one."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(DATE_HINT) from None


class ClockField(TimeField):
    """A time field whose message for an unreadable time is a whole, translated sentence."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the time, or say how to write one."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(TIME_HINT) from None


class MinutesField(IntegerField):
    """A whole number of minutes, with a translated message for anything else."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the number, or say what is needed."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Bitte geben Sie die Minuten als ganze Zahl ein.")) from None


def today() -> date:
    """Today in Berlin."""
    return datetime.now(BERLIN).date()


def _sensible(field: DayField) -> None:
    if field.data is not None and not (date(2000, 1, 1) <= field.data <= latest_sensible(today())):
        raise ValidationError(_l("Bitte prüfen Sie das Jahr."))


class RuleForm(BaseForm):
    """A weekly consultation hour: weekday, from, to, slot length, valid from and until."""

    weekday = SelectField(
        _l("Wochentag"),
        coerce=int,
        validators=[InputRequired(_l("Bitte wählen Sie einen Wochentag."))],
    )
    start_time = ClockField(_l("Von"), validators=[InputRequired(TIME_HINT)])
    end_time = ClockField(_l("Bis"), validators=[InputRequired(TIME_HINT)])
    slot_minutes = MinutesField(
        _l("Länge eines Termins in Minuten"),
        validators=[
            InputRequired(_l("Bitte geben Sie die Länge eines Termins in Minuten ein.")),
            NumberRange(
                *SLOT_MINUTES,
                LazyString(
                    lambda: ngettext(
                        "Ein Termin dauert zwischen %(min)d und %(num)d Minuten.",
                        "Ein Termin dauert zwischen %(min)d und %(num)d Minuten.",
                        SLOT_MINUTES[1],
                        min=SLOT_MINUTES[0],
                    )
                ),
            ),
        ],
    )
    valid_from = DayField(_l("Gilt ab (leer: sofort)"), validators=[Optional()])
    valid_to = DayField(_l("Gilt bis einschließlich (leer: ohne Ende)"), validators=[Optional()])
    version = HiddenField()

    def validate_slot_minutes(self, field: MinutesField) -> None:
        """The hours divide into whole slots."""
        start, end = self.start_time.data, self.end_time.data
        if start and end and field.data and start < end and not slots_fit(self.facts()):
            raise ValidationError(
                _l(
                    "Die Zeit von „Von“ bis „Bis“ muss sich in gleich lange Termine "
                    "dieser Länge teilen lassen."
                )
            )

    def validate_end_time(self, field: ClockField) -> None:
        """The hours end after they start."""
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError(_l("„Bis“ muss nach „Von“ liegen."))

    def validate_valid_from(self, field: DayField) -> None:
        """A sensible year."""
        _sensible(field)

    def validate_valid_to(self, field: DayField) -> None:
        """A sensible year, not before the start of validity."""
        _sensible(field)
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("„Gilt bis“ darf nicht vor „Gilt ab“ liegen."))

    def facts(self) -> RuleFacts:
        """The rule as entered."""
        return RuleFacts(
            int(self.weekday.data or 0),
            self.start_time.data,
            self.end_time.data,
            int(self.slot_minutes.data or 0),
            self.valid_from.data,
            self.valid_to.data,
        )


class EndRuleForm(BaseForm):
    """End a weekly rule: the last day it applies."""

    valid_to = DayField(_l("Letzter Tag"), validators=[InputRequired(DATE_HINT)])

    def validate_valid_to(self, field: DayField) -> None:
        """Not in the past, a sensible year."""
        _sensible(field)
        if field.data and field.data < today():
            raise ValidationError(_l("Der letzte Tag darf nicht in der Vergangenheit liegen."))


class ClosureForm(BaseForm):
    """Days without consultation hours at one location or at all."""

    location = SelectField(_l("Wo"), validate_choice=True)
    first_day = DayField(_l("Erster Tag"), validators=[InputRequired(DATE_HINT)])
    start_time = ClockField(_l("Ab Uhrzeit (leer: ganzer Tag)"), validators=[Optional()])
    last_day = DayField(_l("Letzter Tag"), validators=[InputRequired(DATE_HINT)])
    end_time = ClockField(_l("Bis Uhrzeit (leer: ganzer Tag)"), validators=[Optional()])
    reason = StringField(
        _l("Grund (zum Beispiel Urlaub oder Fortbildung)"),
        validators=[MaxLength(200), SingleLine()],
    )

    def validate_first_day(self, field: DayField) -> None:
        """A sensible year."""
        _sensible(field)

    def validate_last_day(self, field: DayField) -> None:
        """Not in the past, not before the first day, a sensible year."""
        _sensible(field)
        if field.data and field.data < today():
            raise ValidationError(_l("Der letzte Tag darf nicht in der Vergangenheit liegen."))
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError(_l("Der letzte Tag darf nicht vor dem ersten Tag liegen."))

    def validate_end_time(self, field: ClockField) -> None:
        """On one day, the closure ends after it starts."""
        same_day = self.first_day.data and self.first_day.data == self.last_day.data
        if same_day and field.data and self.start_time.data and field.data <= self.start_time.data:
            raise ValidationError(_l("Die Uhrzeit „Bis“ muss nach der Uhrzeit „Ab“ liegen."))

    def facts(self) -> ClosureFacts:
        """The closure as entered."""
        return ClosureFacts(
            self.first_day.data,
            self.last_day.data,
            self.start_time.data,
            self.end_time.data,
            self.reason.data or "",
        )
