"""The questions and rules both resident flows share: for whom, the town, the ways out."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from wtforms import SelectChoice

from .. import db
from ..forms.request import NO_AUTHORITY
from ..services import drafts, towns
from .flow import Exit, Forget


def town_choices(form: Any, answers: object) -> None:
    """Offer both towns with their postcodes, and "elsewhere" (which leaves the flow)."""
    listed = [
        SelectChoice(town.slug, f"{town.name} ({', '.join(town.postcode_list)})")
        for town in towns.all_towns(db.session())
    ]
    form.town.choices = [*listed, SelectChoice("elsewhere", _("Woanders"))]


# Both resident flows leave for someone from elsewhere or who may not ask for the person,
# and forget the person when someone asks for themselves.
TO_ELSEWHERE = Exit("request.elsewhere", lambda new: new["town"] == "elsewhere")
WITHOUT_AUTHORITY = Exit("request.no_authority", lambda new: new["authority"] == NO_AUTHORITY)
FORGET_RELATION = Forget(drafts.RELATION_ANSWERS, lambda new, before: new["who"] == "me")
