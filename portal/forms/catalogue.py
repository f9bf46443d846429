"""The catalogue's search and filter form, sent with GET so results have a shareable address."""

from __future__ import annotations

import functools
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import Field, SearchField, SelectChoice, SelectField
from wtforms.validators import Optional, ValidationError

from .. import labels
from ..services import catalogue
from .base import BaseForm, MaxLength, SingleLine

# Languages people most often ask for; the list of services shows every language a service has.
SPOKEN_LANGUAGES = ("de", "en", "tr", "ar", "ru", "uk", "pl", "ro", "bg", "ku", "fa")


class KnownChoice:
    """The value is one of the field's choices (or empty, which means "any")."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        """Validate ``field``."""
        values = {choice.value for choice in field.choices}
        if field.data and field.data not in values:
            field.data = ""
            raise ValidationError(self.message)


class SearchForm(BaseForm):
    """Words to search for, and filters by topic, town and language spoken."""

    class Meta:
        """A GET form changes nothing, so it needs no CSRF token."""

        csrf = False

    q = SearchField(_l("Wonach suchen Sie?"), validators=[Optional(), MaxLength(100), SingleLine()])
    topic = SelectField(
        _l("Thema"),
        validate_choice=False,
        validators=[KnownChoice(_l("Dieses Thema gibt es nicht. Bitte wählen Sie aus der Liste."))],
    )
    town = SelectField(
        _l("Für Menschen aus"),
        validate_choice=False,
        validators=[KnownChoice(_l("Bitte wählen Sie einen Ort aus der Liste."))],
    )
    language = SelectField(
        _l("Beratung auf"),
        validate_choice=False,
        validators=[KnownChoice(_l("Bitte wählen Sie eine Sprache aus der Liste."))],
    )

    def __init__(self, *args: Any, towns: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topics, languages = _translated_choices(str(get_locale()))
        self.topic.choices = [SelectChoice(code, label) for code, label in topics]
        self.town.choices = [
            SelectChoice("", labels.town_list([name for _slug, name in towns])),
            *(SelectChoice(slug, name) for slug, name in towns),
        ]
        self.language.choices = [SelectChoice(code, label) for code, label in languages]


@functools.lru_cache(maxsize=32)
def _translated_choices(
    locale: str,
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """The topics and the languages to choose from, with their labels in ``locale`` (the one
    of the request: it is the key), translated once per process instead of on every page."""
    topics = (
        ("", str(_l("Alle Themen"))),
        *((code, str(labels.CATALOGUE_TOPICS[code])) for code in catalogue.TOPICS),
    )
    languages = (
        ("", str(_l("Jede Sprache"))),
        *((code, str(labels.LANGUAGES[code])) for code in SPOKEN_LANGUAGES),
    )
    return topics, languages
