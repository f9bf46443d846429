"""Consultation hours: weekly rules and closures per location, a preview of the free slots,
and the booked appointments a change leaves outside the hours."""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import get_day_names
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import db, labels
from ...forms.base import BaseForm
from ...forms.hours import ClosureForm, EndRuleForm, RuleForm
from ...forms.staff import EmptyForm
from ...models import ConsultationLocation, ConsultationRule, utcnow
from ...services import access, hours, slots
from . import bp, record, requires
from .work import booking_policy


def _weekdays() -> list[str]:
    """The names of the weekdays in the reader's language, Monday first."""
    names = get_day_names("wide", locale=get_locale())
    return [names[number] for number in range(7)]


def _rule_form(blank: bool = False) -> RuleForm:
    form = RuleForm(prefix="rule", formdata=None) if blank else RuleForm(prefix="rule")
    form.weekday.choices = [SelectChoice(number, name) for number, name in enumerate(_weekdays())]
    return form


def _closure_form(blank: bool = False) -> ClosureForm:
    form = ClosureForm(prefix="closure", formdata=None) if blank else ClosureForm(prefix="closure")
    form.location.choices = [SelectChoice("", _("Alle Orte"))] + [
        SelectChoice(str(place.id), labels.location_name(place))
        for place in hours.locations(db.session())
    ]
    return form


def _location(location_id: int) -> ConsultationLocation:
    found = hours.location_by_id(db.session(), location_id)
    if found is None:
        abort(404)
    return found


def _rule(location: ConsultationLocation, rule_id: int) -> ConsultationRule:
    found = hours.rule_of(db.session(), location, rule_id)
    if found is None:
        abort(404)
    return found


def _today() -> date:
    return utcnow().astimezone(slots.BERLIN).date()


def _after_change(done: str, location: ConsultationLocation | None = None) -> None:
    """Commit, say what happened, and warn about bookings now outside the hours."""
    db.commit()
    flash(done)
    flash_outside_hours(location)


def flash_outside_hours(location: ConsultationLocation | None = None) -> None:
    """Warn when booked appointments now lie outside the hours (of ``location``, or anywhere)."""
    outside = len(hours.outside_hours(db.session(), utcnow(), location))
    if outside:
        flash(
            ngettext(
                "%(num)d gebuchter Termin liegt jetzt außerhalb der Sprechzeiten. "
                "Bitte verschieben Sie ihn.",
                "%(num)d gebuchte Termine liegen jetzt außerhalb der Sprechzeiten. "
                "Bitte verschieben Sie sie.",
                outside,
            )
        )


def _common() -> dict[str, object]:
    return {
        "signout_form": EmptyForm(),
        "delete_form": EmptyForm(prefix="delete"),
        "may_work_requests": access.may(g.staff, "requests"),
        "weekdays": _weekdays(),
    }


def render_overview(closure_form: ClosureForm | None = None, status: int = 200) -> tuple[str, int]:
    """The locations, the closures, and the bookings outside the hours."""
    session = db.session()
    form = closure_form or _closure_form(blank=True)
    places = hours.locations(session)
    today = _today()
    html = render_template(
        "staff/hours.html",
        locations=places,
        current_rules={
            place.id: [
                rule
                for rule in hours.rules_of(session, place)
                if rule.valid_to is None or rule.valid_to >= today
            ]
            for place in places
        },
        closures=hours.closures_for(session, None, today),
        location_names={place.id: labels.location_name(place) for place in places},
        today=today,
        outside=hours.outside_hours(session, utcnow()),
        closure_form=form,
        has_errors=bool(form.errors),
        **_common(),
    )
    return html, status


@bp.get("/hours", endpoint="hours")
@requires("hours")
def hours_overview() -> str:
    """Every consultation location with its hours, and every closure."""
    return render_overview()[0]


@bp.post("/hours/closures")
@requires("hours")
def add_closure() -> Response | tuple[str, int]:
    """Close one location or all for some days (leave, training)."""
    form = _closure_form()
    if not form.validate_on_submit():
        return render_overview(form, 400)
    location = _location(int(form.location.data)) if form.location.data else None
    hours.add_closure(db.session(), location, form.facts())
    record("hours_closure_add", detail=location.code if location else "")
    _after_change(_("Die Schließzeit ist eingetragen."))
    return redirect(url_for("staff.hours"))


@bp.post("/hours/closures/<int:closure_id>/delete")
@requires("hours")
def delete_closure(closure_id: int) -> Response:
    """Remove a closure: its days have consultation hours again."""
    closure = hours.closure_by_id(db.session(), closure_id)
    if closure is None:
        abort(404)
    if not EmptyForm(prefix="delete").validate_on_submit():
        abort(400)
    hours.delete_closure(db.session(), closure)
    record("hours_closure_delete")
    _after_change(_("Die Schließzeit ist gelöscht."))
    return redirect(url_for("staff.hours"))


def _week(location: ConsultationLocation) -> dict[str, object]:
    """The preview of one week: the free slots as residents are offered them, by day."""
    session = db.session()
    now = utcnow()
    policy = booking_policy()
    this_week = hours.week_of(_today())
    last_week = hours.week_of(policy.last_day(now))
    try:
        asked = date.fromisoformat(request.args.get("week", ""))
    except ValueError:
        asked = this_week
    monday = min(max(hours.week_of(asked), this_week), last_week)
    sunday = monday + timedelta(days=6)
    free = dict(
        slots.group_by_day(slots.free_slots(session, location, now, policy, monday, sunday))
    )
    closed = hours.closures_for(session, location, monday)
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        parts = [
            (closure, part)
            for closure in closed
            if (part := hours.closed_part(closure, day)) is not None
        ]
        whole = slots.closure_bounds(day, day, None, None)
        days.append(
            {
                "day": day,
                "slots": free.get(day, []),
                "holiday": day in hours.holidays_in(day, day),
                "closure": next((c for c, part in parts if part == whole), None),
                "partly": [(c, part) for c, part in parts if part != whole],
            }
        )
    return {
        "days": days,
        "monday": monday,
        "sunday": sunday,
        "previous": monday - timedelta(days=7) if monday > this_week else None,
        "next": monday + timedelta(days=7) if monday < last_week else None,
    }


def render_location(
    location: ConsultationLocation, given: dict[str, BaseForm] | None = None, status: int = 200
) -> tuple[str, int]:
    """One location's rules, the form for a new rule, the preview and its closures."""
    session = db.session()
    given = given or {}
    rules = hours.rules_of(session, location)
    end_forms: dict[int, BaseForm] = {}
    for rule in rules:
        name = f"end{rule.id}"
        end_forms[rule.id] = given.get(name) or EndRuleForm(prefix=name, formdata=None)
        if name not in given:
            end_forms[rule.id].valid_to.data = rule.valid_to or _today()
    html = render_template(
        "staff/hours_location.html",
        location=location,
        location_name=labels.location_name(location),
        rules=rules,
        rule_form=given.get("rule") or _rule_form(blank=True),
        end_forms=end_forms,
        has_errors=bool(given),
        closures=hours.closures_for(session, location, _today()),
        outside=hours.outside_hours(session, utcnow(), location),
        week=_week(location),
        today=_today(),
        **_common(),
    )
    return html, status


@bp.get("/hours/<int:location_id>")
@requires("hours")
def hours_location(location_id: int) -> str:
    """The weekly hours of one location and a preview of a week's free slots."""
    return render_location(_location(location_id))[0]


def _overlap_error(
    form: RuleForm, location: ConsultationLocation, ignore_id: int | None = None
) -> bool:
    """Mark the form when another rule already covers part of these hours."""
    other = hours.overlapping_rule(db.session(), location, form.facts(), ignore_id)
    if other is None:
        return False
    form.start_time.errors = [
        *form.start_time.errors,
        _(
            "Am %(weekday)s gilt schon eine Sprechzeit von %(start)s bis %(end)s, "
            "die sich mit dieser überschneidet.",
            weekday=_weekdays()[other.weekday],
            start=other.start_time.strftime("%H:%M"),
            end=other.end_time.strftime("%H:%M"),
        ),
    ]
    return True


@bp.post("/hours/<int:location_id>/rules")
@requires("hours")
def add_rule(location_id: int) -> Response | tuple[str, int]:
    """Add a weekly consultation hour."""
    location = _location(location_id)
    form = _rule_form()
    if not form.validate_on_submit() or _overlap_error(form, location):
        return render_location(location, {"rule": form}, 400)
    hours.save_rule(db.session(), location, form.facts())
    record("hours_rule_add", detail=location.code)
    _after_change(_("Die Sprechzeit ist eingetragen."), location)
    return redirect(url_for("staff.hours_location", location_id=location.id))


@bp.route("/hours/<int:location_id>/rules/<int:rule_id>", methods=["GET", "POST"])
@requires("hours")
def edit_rule(location_id: int, rule_id: int) -> Response | tuple[str, int] | str:
    """Change a weekly consultation hour."""
    location = _location(location_id)
    rule = _rule(location, rule_id)
    form = _rule_form()
    if request.method == "GET":
        form = _rule_form(blank=True)
        form.process(obj=rule)
        form.version.data = hours.version_of(rule)
    elif form.is_submitted() and form.version.data != hours.version_of(rule):
        flash(
            _(
                "Jemand hat diese Sprechzeit inzwischen geändert. "
                "Hier sehen Sie den neuen Stand. Bitte prüfen Sie Ihre Änderung noch einmal."
            )
        )
        return redirect(url_for("staff.edit_rule", location_id=location.id, rule_id=rule.id))
    elif form.validate_on_submit() and not _overlap_error(form, location, rule.id):
        hours.save_rule(db.session(), location, form.facts(), rule)
        record("hours_rule_change", detail=location.code)
        _after_change(_("Die Sprechzeit ist geändert."), location)
        return redirect(url_for("staff.hours_location", location_id=location.id))
    html = render_template(
        "staff/hours_rule.html",
        location=location,
        location_name=labels.location_name(location),
        rule=rule,
        form=form,
        **_common(),
    )
    return html, 400 if form.errors else 200


@bp.post("/hours/<int:location_id>/rules/<int:rule_id>/end")
@requires("hours")
def end_rule(location_id: int, rule_id: int) -> Response | tuple[str, int]:
    """End a weekly consultation hour on a given day: later weeks have no slots from it."""
    location = _location(location_id)
    rule = _rule(location, rule_id)
    form = EndRuleForm(prefix=f"end{rule.id}")
    valid = form.validate_on_submit()
    if valid and rule.valid_from and form.valid_to.data < rule.valid_from:
        form.valid_to.errors = [_("Der letzte Tag darf nicht vor „Gilt ab“ liegen.")]
        valid = False
    if not valid:
        return render_location(location, {f"end{rule.id}": form}, 400)
    rule.valid_to = form.valid_to.data
    record("hours_rule_end", detail=location.code)
    _after_change(_("Die Sprechzeit endet am gewählten Tag."), location)
    return redirect(url_for("staff.hours_location", location_id=location.id))


@bp.post("/hours/<int:location_id>/rules/<int:rule_id>/delete")
@requires("hours")
def delete_rule(location_id: int, rule_id: int) -> Response:
    """Delete a weekly consultation hour that was entered by mistake."""
    location = _location(location_id)
    rule = _rule(location, rule_id)
    if not EmptyForm(prefix="delete").validate_on_submit():
        abort(400)
    hours.delete_rule(db.session(), rule)
    record("hours_rule_delete", detail=location.code)
    _after_change(_("Die Sprechzeit ist gelöscht."), location)
    return redirect(url_for("staff.hours_location", location_id=location.id))
