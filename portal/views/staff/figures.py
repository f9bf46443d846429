"""Figures for the towns and the funder: charts, tables and a CSV download, without people."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from ... import charts, db, labels
from ...forms.figures import FiguresFilterForm
from ...forms.staff import EmptyForm
from ...i18n import current_locale
from ...models import FIGURE_MEASURES, OUTCOMES, utcnow
from ...services import figures, referrals, towns
from ...services.requests import BERLIN
from .. import current_settings
from . import bp, record, requires

DEFAULT_MONTHS = 12
# Cells of a CSV download start with none of these, so no spreadsheet runs them as formulas.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _today() -> date:
    return utcnow().astimezone(BERLIN).date()


def month_label(month: str) -> str:
    """A month such as 2026-03 as the page language names it, e.g. "März 2026"."""
    year, number = (int(part) for part in month.split("-"))
    return format_date(date(year, number, 1), "LLLL yyyy")


def _number(value: int) -> str:
    return str(format_decimal(value))


def _filter_form() -> tuple[FiguresFilterForm, figures.Period | None]:
    """The filter from the query string, and the period it chooses (``None`` if invalid)."""
    months = figures.months_with_figures(db.session(), _today())
    all_towns = towns.all_towns(db.session())
    args = request.args.copy()
    args.setdefault("first", months[max(0, len(months) - DEFAULT_MONTHS)])
    args.setdefault("last", months[-1])
    form = FiguresFilterForm(args)
    form.first.choices = [SelectChoice(month, month_label(month)) for month in months]
    form.last.choices = list(form.first.choices)
    form.town.choices = [SelectChoice("", _("Alle Orte"))] + [
        SelectChoice(town.slug, town.name) for town in all_towns
    ]
    for field, fallback in ((form.first, months[0]), (form.last, months[-1])):
        if field.data not in months:
            field.data = fallback
    chosen = next((town for town in all_towns if town.slug == form.town.data), None)
    if chosen is None:
        form.town.data = ""
    if not form.validate():
        return form, None
    return form, figures.Period(
        str(form.first.data), str(form.last.data), chosen.id if chosen else None
    )


OPEN_OUTCOME = "open"
NO_RESPONSE = ""


def _outcome_label(code: str) -> str:
    if code == OPEN_OUTCOME:
        return _("noch nicht abgeschlossen")
    return str(labels.OUTCOMES.get(code, code))


def _channel_label(code: str) -> str:
    return {
        "online": _("Online-Anfrage"),
        "booking": _("Terminbuchung"),
        "staff": _("Von uns erfasst (Telefon oder Rathaus)"),
    }.get(code, code)


def _promise_label(code: str) -> str:
    return {
        "kept": _("bis zum versprochenen Tag"),
        "late": _("später als versprochen"),
        "pending": _("noch keine Antwort, die Frist läuft noch"),
        "none": _("ohne Antwort abgeschlossen"),
    }.get(code, code)


def _days_label(code: str) -> str:
    if code == NO_RESPONSE:
        return _("keine erste Antwort")
    days = int(code)
    if days >= figures.LAST_BUCKET:
        return _("%(num)s oder mehr Arbeitstage", num=days)
    return ngettext("%(num)s Arbeitstag", "%(num)s Arbeitstage", days)


def _destination_label(names: dict[str, str]) -> Callable[[str], str]:
    def label(code: str) -> str:
        if code == figures.OTHER_DESTINATION:
            return _("Andere Stelle (von Hand eingetragen, ohne Namen)")
        return names.get(code) or _("Stelle nicht mehr im Katalog")

    return label


def _tally(found: Counter[figures.Cell], measure: str, part: str) -> Counter[str]:
    """The counts of one measure, by one of the cell's codes."""
    totals: Counter[str] = Counter()
    for cell, count in found.items():
        if cell.measure == measure:
            totals[getattr(cell, part)] += count
    return totals


def _chart(
    key: str,
    title: str,
    label_heading: str,
    order: Iterable[str],
    totals: Counter[str],
    label: Callable[[str], str],
    summary: str = "",
) -> charts.Chart:
    """A bar chart of ``totals`` in ``order``; the summary names the largest bar."""
    codes = [code for code in order if totals[code]]
    bars = tuple(charts.Bar(label(code), totals[code], _number(totals[code])) for code in codes)
    total = sum(totals.values())
    if not summary:
        if total:
            top = max(codes, key=lambda code: totals[code])
            summary = _(
                "Insgesamt %(total)s. Am häufigsten: %(label)s mit %(count)s.",
                total=_number(total),
                label=label(top),
                count=_number(totals[top]),
            )
        else:
            summary = _("Im gewählten Zeitraum gibt es dazu keine Zahlen.")
    return charts.Chart(key, title, summary, label_heading, _("Anzahl"), bars)


def _month_chart(found: Counter[figures.Cell], period: figures.Period) -> charts.Chart:
    months = [
        month
        for month in figures.months_with_figures(db.session(), _today())
        if period.first <= month <= period.last
    ]
    totals = _tally(found, "request", "month")
    total = sum(totals.values())
    summary = _("Im gewählten Zeitraum gibt es dazu keine Zahlen.")
    if total:
        top = max(months, key=lambda month: totals[month])
        summary = _(
            "Von %(first)s bis %(last)s kamen %(total)s Anfragen. Die meisten im %(month)s: "
            "%(count)s.",
            first=month_label(period.first),
            last=month_label(period.last),
            total=_number(total),
            month=month_label(top),
            count=_number(totals[top]),
        )
    by_channel: Counter[tuple[str, str]] = Counter()
    for cell, count in found.items():
        if cell.measure == "request":
            by_channel[cell.month, cell.channel] += count
    bars = tuple(
        charts.Bar(
            month_label(month),
            totals[month],
            _number(totals[month]),
            tuple(_number(by_channel[month, channel]) for channel in figures.CHANNEL_GROUPS),
        )
        for month in months
    )
    return charts.Chart(
        "months",
        _("Anfragen je Monat"),
        summary,
        _("Monat"),
        _("Anzahl"),
        bars,
        tuple(_channel_label(channel) for channel in figures.CHANNEL_GROUPS),
    )


def _response_summary(found: Counter[figures.Cell]) -> str:
    days: list[int] = []
    promises = _tally(found, "response", "promise")
    for cell, count in found.items():
        if cell.measure == "response" and cell.detail != NO_RESPONSE:
            days.extend([int(cell.detail)] * count)
    if not days:
        return _("Im gewählten Zeitraum gibt es dazu keine Zahlen.")
    return _(
        "%(kept)s von %(answered)s ersten Antworten kamen bis zum versprochenen Tag. "
        "Die Hälfte kam nach höchstens %(median)s Arbeitstagen.",
        kept=_number(promises["kept"]),
        answered=_number(len(days)),
        median=_number(int(statistics.median_low(days))),
    )


def build_charts(found: Counter[figures.Cell], period: figures.Period) -> list[charts.Chart]:
    """Every chart of the figures page, from the counted cells."""
    names = dict(referrals.organizations(db.session()))
    destinations = _tally(found, "referral", "detail")
    return [
        _month_chart(found, period),
        _chart(
            "channels",
            _("Anfragen nach Weg"),
            _("Weg"),
            figures.CHANNEL_GROUPS,
            _tally(found, "request", "channel"),
            _channel_label,
        ),
        _chart(
            "topics",
            _("Anfragen nach Themenbereich"),
            _("Themenbereich"),
            labels.TOPIC_GROUPS,
            _tally(found, "request", "topic_group"),
            lambda code: str(labels.TOPIC_GROUPS.get(code, code)),
        ),
        _chart(
            "outcomes",
            _("Anfragen nach Ergebnis"),
            _("Ergebnis"),
            (*OUTCOMES, OPEN_OUTCOME),
            _tally(found, "request", "outcome"),
            _outcome_label,
        ),
        _chart(
            "response",
            _("Erste Antwort nach Arbeitstagen"),
            _("Arbeitstage bis zur ersten Antwort"),
            [str(day) for day in range(figures.LAST_BUCKET + 1)] + [NO_RESPONSE],
            _tally(found, "response", "detail"),
            _days_label,
            _response_summary(found),
        ),
        _chart(
            "promise",
            _("Erste Antwort und unser Versprechen"),
            _("Erste Antwort"),
            figures.PROMISES,
            _tally(found, "response", "promise"),
            _promise_label,
        ),
        _chart(
            "referrals",
            _("Weitervermittlungen nach Stelle"),
            _("Stelle"),
            sorted(destinations, key=lambda code: (-destinations[code], code)),
            destinations,
            _destination_label(names),
        ),
    ]


@bp.get("/figures", endpoint="figures")
@requires("figures")
def figures_page() -> tuple[str, int] | str:
    """Charts and tables of the requests, responses and referrals, by period and town."""
    form, period = _filter_form()
    settings = current_settings()
    found = (
        []
        if period is None
        else build_charts(figures.counts(db.session(), period, _today()), period)
    )
    page = render_template(
        "staff/figures.html",
        form=form,
        charts=found,
        rtl=current_locale().direction == "rtl",
        render_chart=charts.render,
        response_days=settings.response_days,
        urgent_response_days=settings.urgent_response_days,
        csv_args={"first": form.first.data, "last": form.last.data, "town": form.town.data},
        signout_form=EmptyForm(),
    )
    return (page, 400) if period is None else page


def _safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_text(found: Counter[figures.Cell]) -> str:
    """The counted cells as CSV (semicolons, as German spreadsheets expect), one cell a line."""
    town_names = {town.id: town.name for town in towns.all_towns(db.session())}
    destination = _destination_label(dict(referrals.organizations(db.session())))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Monat"),
            _("Ort"),
            _("Zählt"),
            _("Themenbereich"),
            _("Weg"),
            _("Ergebnis"),
            _("Arbeitstage bis zur ersten Antwort"),
            _("Erste Antwort"),
            _("Stelle"),
            _("Anzahl"),
        ]
    )
    what = {
        "request": _("Anfragen"),
        "response": _("Erste Antworten"),
        "referral": _("Weitervermittlungen"),
    }
    order = {measure: index for index, measure in enumerate(FIGURE_MEASURES)}
    for cell, count in sorted(
        found.items(),
        key=lambda item: (item[0].month, item[0].town_id, order[item[0].measure], item[0]),
    ):
        writer.writerow(
            _safe(value)
            for value in (
                cell.month,
                town_names.get(cell.town_id, str(cell.town_id)),
                what[cell.measure],
                str(labels.TOPIC_GROUPS.get(cell.topic_group, cell.topic_group)),
                _channel_label(cell.channel),
                _outcome_label(cell.outcome) if cell.measure == "request" else "",
                _days_label(cell.detail) if cell.measure == "response" else "",
                _promise_label(cell.promise) if cell.measure == "response" else "",
                destination(cell.detail) if cell.measure == "referral" else "",
                str(count),
            )
        )
    return out.getvalue()


@bp.get("/figures.csv")
@requires("figures")
def figures_csv() -> BaseResponse:
    """The figures of the chosen period and town as a CSV file; the download is audited."""
    form, period = _filter_form()
    if period is None:
        chosen: dict[str, Any] = {
            name: request.args[name] for name in ("first", "last", "town") if name in request.args
        }
        return redirect(url_for("staff.figures", **chosen))
    record("figures_export", detail=f"{period.first} {period.last} {form.town.data or '*'}")
    db.commit()
    text = csv_text(figures.counts(db.session(), period, _today()))
    name = f"zahlen-{period.first}-{period.last}{'-' + form.town.data if form.town.data else ''}"
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
