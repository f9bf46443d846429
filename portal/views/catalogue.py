"""The help catalogue: browse by topic, filter, search in the page's language, read a service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from urllib.parse import urlencode

from babel.dates import get_day_names
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import format_time, get_locale

from .. import db, labels, town_contacts
from ..forms.base import parse_number
from ..forms.catalogue import SearchForm
from ..i18n import current_locale
from ..models import Schedule
from ..services import catalogue, catalogue_search
from ..services.catalogue import WEEKDAYS, in_language
from . import cached_search

bp = Blueprint("catalogue", __name__, url_prefix="/<lang>/catalogue")

PER_PAGE = 10
MAX_PAGE = 1000


@dataclass(frozen=True)
class OpeningHours:
    """One line of opening hours: a day or a run of days, and their times."""

    days: str
    times: list[str]


def _day_label(first: int, last: int) -> str:
    names = get_day_names("wide", locale=get_locale())
    if first == last:
        return str(names[first])
    separator = "–" if last - first > 1 else ", "
    return f"{names[first]}{separator}{names[last]}"


def opening_hours(schedules: list[Schedule]) -> list[OpeningHours]:
    """Weekly schedules as lines like "Monday–Friday: 08:00–12:30", in the reader's language."""
    per_day: list[list[tuple[time, time]]] = [[] for _ in WEEKDAYS]
    for schedule in schedules:
        for code in schedule.byday.split(","):
            if code in WEEKDAYS:
                per_day[WEEKDAYS.index(code)].append((schedule.opens_at, schedule.closes_at))
    lines: list[OpeningHours] = []
    day = 0
    while day < len(WEEKDAYS):
        hours = sorted(per_day[day])
        last = day
        while last + 1 < len(WEEKDAYS) and sorted(per_day[last + 1]) == hours:
            last += 1
        if hours:
            lines.append(
                OpeningHours(
                    _day_label(day, last),
                    [
                        f"{format_time(opens, 'short')}–{format_time(closes, 'short')}"
                        for opens, closes in hours
                    ],
                )
            )
        day = last + 1
    return lines


def _town_choices() -> list[tuple[str, str]]:
    # The towns the page's footer shows too: read once per request.
    return [(town.slug, town.name) for town in town_contacts()]


def _page_url(page: int) -> str:
    arguments = {k: v for k, v in request.args.items() if k != "page" and v}
    if page > 1:
        arguments["page"] = str(page)
    query = urlencode(arguments)
    return url_for("catalogue.index") + (f"?{query}" if query else "")


@bp.get("/")
def index() -> str:
    """Topics to browse, a search form, and the results of a search or filter."""
    lang = current_locale().code
    form = SearchForm(formdata=request.args, towns=_town_choices())
    searched = any(request.args.get(name) for name in ("q", "topic", "town", "language"))
    form.validate()
    page = request.args.get("page", "1")
    page_number = parse_number(page, MAX_PAGE) or 1
    found = None
    if searched:
        filters = catalogue_search.Filters(
            topic=form.topic.data or None,
            town=form.town.data or None,
            language=form.language.data or None,
        )
        query = "" if form.q.errors else (form.q.data or "")
        found = cached_search().summary_page(
            current_locale().html_lang,
            lang,
            query,
            filters,
            page_number,
            PER_PAGE,
        )
    counts = {} if searched else catalogue_search.counts_by_topic(db.session(), catalogue.TOPICS)
    return render_template(
        "catalogue/index.html",
        form=form,
        searched=searched,
        results=found.results if found else None,
        services=found.services if found else [],
        counts=counts,
        has_demo=cached_search().shows_demo(),
        page_url=_page_url,
        request_topic=catalogue.REQUEST_TOPIC,
    )


@bp.get("/service/<service_id>")
def service(service_id: str) -> str:
    """Everything about one service, with a way to ask the Soziales Duo about it."""
    found = catalogue.visible_service(db.session(), service_id)
    if found is None:
        abort(404)
    lang = current_locale().code
    town_names = dict(_town_choices())
    primary_topic = found.topics[0].topic if found.topics else "everyday"
    return render_template(
        "catalogue/service.html",
        service=found,
        text=in_language(found.texts, lang),
        organization=in_language(found.organization.texts, lang),
        hours=opening_hours(list(found.schedules)),
        town_names=town_names,
        in_language=in_language,
        lang=lang,
        request_topic=catalogue.REQUEST_TOPIC[primary_topic],
        topic_labels=labels.CATALOGUE_TOPICS,
        language_name=lambda code: catalogue.language_name(code, current_locale().catalog),
    )
