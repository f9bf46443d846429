"""The administrator's towns: each member town's facts and its consultation locations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ... import db
from ...forms.staff import EmptyForm
from ...forms.towns import LocationForm, NewTownForm, TownForm
from ...models import ConsultationLocation, Town
from ...services import towns
from ...services.errors import StaleEdit, TownTaken
from . import bp, record, requires
from .hours import flash_outside_hours


def _town(town_id: int) -> Town:
    found = towns.town_by_id(db.session(), town_id)
    if found is None:
        abort(404)
    return found


def _page(template: str, form: object, status: int = 200, **context: object) -> tuple[str, int]:
    html = render_template(
        template, form=form, has_errors=status == 400, signout_form=EmptyForm(), **context
    )
    return html, status


@bp.get("/towns", endpoint="towns")
@requires("towns")
def towns_list() -> str:
    """Every member town with its inbox, postcodes and consultation locations."""
    session = db.session()
    listed = towns.all_towns(session)
    return render_template(
        "staff/towns.html",
        towns=listed,
        locations={town.id: towns.town_locations(session, town) for town in listed},
        signout_form=EmptyForm(),
    )


@bp.route("/towns/new", methods=["GET", "POST"])
@requires("towns")
def town_new() -> Response | tuple[str, int]:
    """Add a member town: from then on residents can choose it and its requests reach it."""
    form = NewTownForm()
    if not form.validate_on_submit():
        return _page("staff/town_form.html", form, 400 if form.is_submitted() else 200)
    try:
        town = towns.add_town(db.session(), form.slug.data or "", form.facts())
    except TownTaken:
        db.rollback()
        form.slug.errors = [_("Eine Stadt mit diesem Kurznamen oder Namen gibt es schon.")]
        return _page("staff/town_form.html", form, 400)
    record("town_add", detail=town.slug)
    db.commit()
    flash(_("Die Stadt %(town)s ist angelegt.", town=town.name))
    return redirect(url_for("staff.town_edit", town_id=town.id))


@bp.route("/towns/<int:town_id>", methods=["GET", "POST"])
@requires("towns")
def town_edit(town_id: int) -> Response | tuple[str, int]:
    """Change a town's facts; an edit over someone else's newer one is refused."""
    town = _town(town_id)
    form = TownForm(obj=town if request.method == "GET" else None)
    if not form.is_submitted():
        form.postcodes.data = ", ".join(town.postcode_list)
        form.seen.data = towns.fingerprint(town)
    context = {"town": town, "locations": towns.town_locations(db.session(), town)}
    if not form.validate_on_submit():
        return _page("staff/town_form.html", form, 400 if form.is_submitted() else 200, **context)
    try:
        changed = towns.update_town(db.session(), town, form.facts(), form.seen.data or "")
    except StaleEdit:
        db.rollback()
        flash(
            _(
                "Jemand anderes hat die Stadt gerade geändert. Bitte prüfen Sie die Angaben und speichern Sie noch einmal."
            )
        )
        return redirect(url_for("staff.town_edit", town_id=town_id))
    except TownTaken:
        db.rollback()
        form.name.errors = [_("Eine Stadt mit diesem Kurznamen oder Namen gibt es schon.")]
        return _page("staff/town_form.html", form, 400, **context)
    if changed:
        record("town_edit", detail=f"{town.slug}: {', '.join(changed)}")
    db.commit()
    flash(_("Die Angaben zu %(town)s sind gespeichert.", town=town.name))
    return redirect(url_for("staff.towns"))


def _location(town: Town, location_id: int) -> ConsultationLocation:
    found = towns.location_of_town(db.session(), town, location_id)
    if found is None:
        abort(404)
    return found


@bp.route("/towns/<int:town_id>/locations/new", methods=["GET", "POST"])
@requires("towns")
def location_new(town_id: int) -> Response | tuple[str, int]:
    """Add a place in the town where residents can book consultations."""
    town = _town(town_id)
    form = LocationForm()
    if not form.is_submitted():
        form.postcode.data = town.postcode
        form.city.data = town.name
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return _page("staff/location_form.html", form, status, town=town, location=None)
    location = towns.add_location(db.session(), town, form.facts())
    record("location_add", detail=f"{town.slug}: {location.code}")
    db.commit()
    flash(_("Der Ort %(place)s ist angelegt.", place=location.name))
    return redirect(url_for("staff.town_edit", town_id=town.id))


@bp.route("/towns/<int:town_id>/locations/<int:location_id>", methods=["GET", "POST"])
@requires("towns")
def location_edit(town_id: int, location_id: int) -> Response | tuple[str, int]:
    """Change a consultation location's name or address, or close it for bookings."""
    town = _town(town_id)
    location = _location(town, location_id)
    form = LocationForm(obj=location if request.method == "GET" else None)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return _page("staff/location_form.html", form, status, town=town, location=location)
    towns.update_location(db.session(), location, form.facts())
    record("location_edit", detail=f"{town.slug}: {location.code}")
    db.commit()
    flash(_("Die Angaben zu %(place)s sind gespeichert.", place=location.name))
    flash_outside_hours(location)  # closing a location leaves its bookings to be moved
    return redirect(url_for("staff.town_edit", town_id=town.id))
