"""Editing the catalogue: records, drafts, a preview on the public page, publication, history.

Every change is a draft first; only publishing makes it public. The public pages, search,
API and export read the published tables only.
"""

from __future__ import annotations

from typing import Any

from babel.dates import get_day_names
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import db, labels
from ...forms.base import parse_number
from ...forms.catalogue_editing import (
    FORMS,
    TEXT_LABELS,
    PublishForm,
    RecordForm,
    from_data,
    to_data,
)
from ...forms.staff import EmptyForm
from ...i18n import CONTENT_LANGUAGES, LOCALES, current_locale
from ...models import utcnow
from ...services import catalogue, catalogue_editing, towns
from ...services.catalogue import SOURCE_LANGUAGE, WEEKDAYS
from ...services.catalogue_editing import KINDS, NAME_REQUIRED, TEXT_FIELDS, StaleEdit
from ..catalogue import opening_hours
from . import bp, record, requires


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _kind_names() -> dict[str, str]:
    return {
        "service": _("Angebot"),
        "organization": _("Anbieter"),
        "location": _("Standort"),
    }


def _title(kind: str, new: bool) -> str:
    if new:
        return {
            "service": _("Neues Angebot"),
            "organization": _("Neuer Anbieter"),
            "location": _("Neuer Standort"),
        }[kind]
    return {
        "service": _("Angebot bearbeiten"),
        "organization": _("Anbieter bearbeiten"),
        "location": _("Standort bearbeiten"),
    }[kind]


def _stale_message() -> str:
    return _(
        "Jemand anderes hat diesen Eintrag inzwischen geändert. Ihre Änderung wurde nicht "
        "gespeichert. Bitte öffnen Sie den Eintrag neu und ändern Sie ihn noch einmal."
    )


def _choose(form: RecordForm) -> None:
    """Fill the choices that come from the database, and the days' labels."""
    if form.kind != "service":
        return
    session = db.session()
    form["organization_id"].choices = [
        SelectChoice(item.record_id, item.name)
        for item in catalogue_editing.listing(session, "organization")
        if item.published
    ]
    form["areas"].choices = [
        SelectChoice(town.slug, town.name) for town in towns.all_towns(session)
    ]
    form["locations"].choices = [
        SelectChoice(location_id, label)
        for location_id, label in catalogue_editing.location_choices(session)
    ]
    days = get_day_names("wide", locale=get_locale())
    for index, day in enumerate(WEEKDAYS):
        form[f"hours__{day}"].label.text = str(days[index])


def _editor(kind: str, record_id: str | None) -> tuple[RecordForm, Any, Any]:
    """The form for a record, filled from its draft or the published record."""
    session = db.session()
    live = catalogue_editing.live_record(session, kind, record_id) if record_id else None
    draft = catalogue_editing.draft_of(session, kind, record_id) if record_id else None
    if record_id and live is None and draft is None:
        abort(404)
    if draft is not None:
        data = catalogue_editing.draft_data(draft)
    elif live is not None:
        data = catalogue_editing.snapshot(kind, live)
    else:
        data = {}
    form = FORMS[kind](data=from_data(kind, data) if data else None)
    if not form.is_submitted():
        base = draft.base_version if draft else (live.version if live else None)
        form.version.data = "" if base is None else str(base)
        form.revision.data = str(draft.revision) if draft else "0"
    _choose(form)
    return form, live, draft


def _number(raw: str | None) -> int | None:
    return parse_number(raw)


@bp.get("/catalogue/", endpoint="catalogue")
@requires("catalogue")
def catalogue_index() -> str:
    """The records of the catalogue, with their drafts, and ways to add new ones."""
    session = db.session()
    return render_template(
        "staff/catalogue/index.html",
        lists={kind: catalogue_editing.listing(session, kind) for kind in KINDS},
        kind_names=_kind_names(),
        signout_form=EmptyForm(),
    )


def _edit_page(kind: str, form: RecordForm, record_id: str | None, live: Any, draft: Any) -> str:
    return render_template(
        "staff/catalogue/edit.html",
        kind=kind,
        title=_title(kind, record_id is None),
        form=form,
        record_id=record_id,
        live=live,
        draft=draft,
        text_fields=TEXT_FIELDS[kind],
        text_labels=TEXT_LABELS,
        languages=CONTENT_LANGUAGES,
        required_field=f"name__{SOURCE_LANGUAGE}" if kind in NAME_REQUIRED else "",
        language_name=lambda code: catalogue.language_name(code, current_locale().code),
        weekdays=WEEKDAYS,
        refused=request.args.get("refused") == "publish",
        directions={locale.code: locale.direction for locale in LOCALES},
        previewable=draft is not None
        and (
            kind == "service"
            or catalogue_editing.host_service(db.session(), kind, record_id or "") is not None
        ),
        stale=draft is not None and draft.base_version != (live.version if live else None),
        publish_form=PublishForm(data={"revision": str(draft.revision) if draft else ""}),
        discard_form=EmptyForm(),
        signout_form=EmptyForm(),
    )


def _save(kind: str, record_id: str, form: RecordForm) -> Response | None:
    """Save the form as the record's draft; ``None`` when it is stale (the form says so)."""
    try:
        catalogue_editing.save_draft(
            db.session(),
            kind,
            record_id,
            to_data(form),
            _number(form.version.data),
            _number(form.revision.data) or 0,
            g.staff.id,
            utcnow(),
        )
    except StaleEdit:
        db.rollback()
        form.version.errors = [_stale_message()]
        return None
    record("catalogue_draft", detail=f"{kind} {record_id}")
    db.commit()
    flash(_("Der Entwurf ist gespeichert. Er ist noch nicht öffentlich."))
    if kind == "service":
        return redirect(url_for("staff.catalogue_preview", kind=kind, record_id=record_id))
    return redirect(url_for("staff.catalogue_edit", kind=kind, record_id=record_id))


@bp.route("/catalogue/<kind>/new", methods=["GET", "POST"])
@requires("catalogue")
def catalogue_new(kind: str) -> str | Response:
    """A new record: saved as a draft, public only once published."""
    kind = _kind(kind)
    form, _live, _draft = _editor(kind, None)
    if form.validate_on_submit():
        saved = _save(kind, catalogue_editing.new_id(), form)
        if saved is not None:
            return saved
    return _edit_page(kind, form, None, None, None)


@bp.route("/catalogue/<kind>/<record_id>/edit", methods=["GET", "POST"])
@requires("catalogue")
def catalogue_edit(kind: str, record_id: str) -> str | Response:
    """Change a record, every language beside the German; saved as a draft."""
    kind = _kind(kind)
    form, live, draft = _editor(kind, record_id)
    if form.validate_on_submit():
        saved = _save(kind, record_id, form)
        if saved is not None:
            return saved
    return _edit_page(kind, form, record_id, live, draft)


@bp.get("/catalogue/<kind>/<record_id>/preview")
@requires("catalogue")
def catalogue_preview(kind: str, record_id: str) -> str:
    """The draft on the public page's own template, in the page's language."""
    kind = _kind(kind)
    session = db.session()
    draft = catalogue_editing.draft_of(session, kind, record_id)
    service = catalogue_editing.preview(session, kind, record_id, utcnow())
    if draft is None or service is None:
        abort(404)
    lang = current_locale().code
    primary_topic = service.topics[0].topic if service.topics else "everyday"
    page = render_template(
        "catalogue/service.html",
        service=service,
        text=catalogue.in_language(service.texts, lang),
        organization=catalogue.in_language(service.organization.texts, lang),
        hours=opening_hours(list(service.schedules)),
        town_names={town.slug: town.name for town in towns.all_towns(session)},
        in_language=catalogue.in_language,
        lang=lang,
        request_topic=catalogue.REQUEST_TOPIC[primary_topic],
        topic_labels=labels.CATALOGUE_TOPICS,
        language_name=lambda code: catalogue.language_name(code, lang),
        preview=draft,
        publish_form=PublishForm(data={"revision": str(draft.revision)}),
        discard_form=EmptyForm(),
        kind=kind,
        record_id=record_id,
    )
    db.rollback()  # nothing of the preview may reach the database
    return page


@bp.post("/catalogue/<kind>/<record_id>/publish")
@requires("catalogue")
def catalogue_publish(kind: str, record_id: str) -> Response:
    """Make the draft public: the pages, the search, the API and the export show it."""
    kind = _kind(kind)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    session = db.session()
    try:
        catalogue_editing.publish(
            session,
            kind,
            record_id,
            _number(form.revision.data) or 0,
            g.staff.id,
            CONTENT_LANGUAGES,
            utcnow(),
        )
    except StaleEdit:
        db.rollback()
        return redirect(
            url_for("staff.catalogue_edit", kind=kind, record_id=record_id, refused="publish")
        )
    record("catalogue_publish", detail=f"{kind} {record_id}")
    db.commit()
    flash(_("Veröffentlicht. Alle sehen jetzt die neue Fassung."))
    return redirect(url_for("staff.catalogue_history", kind=kind, record_id=record_id))


@bp.post("/catalogue/<kind>/<record_id>/discard")
@requires("catalogue")
def catalogue_discard(kind: str, record_id: str) -> Response:
    """Throw the draft away; the published record stays as it is."""
    kind = _kind(kind)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    session = db.session()
    if not catalogue_editing.discard(session, kind, record_id, g.staff.id, utcnow()):
        abort(404)
    record("catalogue_discard", detail=f"{kind} {record_id}")
    db.commit()
    flash(_("Der Entwurf ist verworfen."))
    return redirect(url_for("staff.catalogue"))


@bp.get("/catalogue/<kind>/<record_id>/history")
@requires("catalogue")
def catalogue_history(kind: str, record_id: str) -> str:
    """Who changed this record when, and which fields."""
    kind = _kind(kind)
    session = db.session()
    live = catalogue_editing.live_record(session, kind, record_id)
    changes = catalogue_editing.history(session, kind, record_id)
    if live is None and not changes:
        abort(404)
    return _history_page(changes, kind, record_id)


@bp.get("/catalogue/history")
@requires("catalogue")
def catalogue_changes() -> str:
    """The latest changes of the whole catalogue."""
    return _history_page(catalogue_editing.history(db.session()), None, None)


def _history_page(changes: list[Any], kind: str | None, record_id: str | None) -> str:
    return render_template(
        "staff/catalogue/history.html",
        changes=changes,
        kind=kind,
        record_id=record_id,
        kind_names=_kind_names(),
        field_name=_field_name,
        signout_form=EmptyForm(),
    )


def _field_name(field: str) -> str:
    """A changed field for people: "Beschreibung (Türkisch)"."""
    name, _sep, lang = field.partition(":")
    label = str(TEXT_LABELS.get(name, "")) or name
    if lang:
        return f"{label} ({catalogue.language_name(lang, current_locale().code)})"
    return label


@bp.get("/catalogue/translations")
@requires("catalogue")
def catalogue_translations() -> str:
    """Per language, the published records whose texts lack a translation."""
    languages = [code for code in CONTENT_LANGUAGES if code != SOURCE_LANGUAGE]
    return render_template(
        "staff/catalogue/translations.html",
        missing=catalogue_editing.missing_translations(db.session(), languages),
        language_name=lambda code: catalogue.language_name(code, current_locale().code),
        kind_names=_kind_names(),
        text_labels=TEXT_LABELS,
        signout_form=EmptyForm(),
    )
