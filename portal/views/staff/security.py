"""The security event log for administrators: sign-ins, enrolment, refused forms, limits."""

from __future__ import annotations

from flask import render_template, request
from wtforms import SelectChoice

from ... import db, labels
from ...forms.staff import EmptyForm, SecurityLogFilterForm
from ...services import security_log
from ...services import staff as staff_rules
from . import bp, record, requires


def _filter_form() -> SecurityLogFilterForm:
    form = SecurityLogFilterForm(request.args)
    form.kind.choices = [SelectChoice("", str(labels.ALL_EVENTS))] + [
        SelectChoice(kind, str(labels.SECURITY_EVENTS[kind])) for kind in security_log.KINDS
    ]
    return form


@bp.get("/security")
@requires("security_log")
def security_log_page() -> str:
    """The latest security events, newest first, optionally of one kind."""
    form = _filter_form()
    kind = form.kind.data if form.kind.data in security_log.KINDS else ""
    events = security_log.latest(db.session(), kind=kind)
    names = staff_rules.shown_names(db.session(), {e.staff_id for e in events if e.staff_id})
    record("security_log_view", detail=kind)
    db.commit()
    return render_template(
        "staff/security.html",
        form=form,
        events=events,
        names=names,
        signout_form=EmptyForm(),
    )
