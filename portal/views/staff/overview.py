"""The staff start page with the inbox, the whole audit log, and entering a request."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import db, labels, mail
from ...forms.request import contact_choices
from ...forms.staff import EmptyForm, InboxFilterForm
from ...forms.staff_entry import EntryForm
from ...models import REQUEST_STATUSES, utcnow
from ...services import access, audit, inbound, outbox, referrals, requests, retention, towns
from ...services.choices import URGENCIES
from .. import current_settings
from . import bp, record, requires


def _inbox_form() -> InboxFilterForm:
    form = InboxFilterForm(request.args)
    form.status.choices = [SelectChoice("", _("Alle offenen"))] + [
        SelectChoice(code, str(labels.STATUS_SHORT[code])) for code in REQUEST_STATUSES
    ]
    form.urgency.choices = [SelectChoice("", _("Alle"))] + [
        SelectChoice(code, str(labels.URGENCY_SHORT[code])) for code in URGENCIES
    ]
    form.assignee.choices = [
        SelectChoice("", _("Alle")),
        SelectChoice("me", _("Ich")),
        SelectChoice("nobody", _("Noch niemand")),
    ]
    form.town.choices = [SelectChoice("", _("Alle"))] + [
        SelectChoice(town.slug, town.name) for town in towns.all_towns(db.session())
    ]
    return form


def _filter(form: InboxFilterForm) -> requests.InboxFilter:
    town_ids = access.readable_town_ids(g.staff)
    chosen = towns.town_by_slug(db.session(), form.town.data or "")
    if chosen is not None and (town_ids is None or chosen.id in town_ids):
        town_ids = [chosen.id]
    return requests.InboxFilter(
        town_ids=town_ids,
        status=form.status.data if form.status.data in REQUEST_STATUSES else "",
        urgency=form.urgency.data if form.urgency.data in URGENCIES else "",
        assignee=form.assignee.data if form.assignee.data in ("me", "nobody") else "",
        staff_id=g.staff.id,
    )


@bp.get("/")
@requires("signed_in")
def inbox() -> str:
    """Open requests of the colleague's town(s), newest first, with filters."""
    form = _inbox_form()
    found = []
    due = []
    expiring: list[retention.Expiry] = []
    if access.may(g.staff, "requests"):
        town_ids = access.readable_town_ids(g.staff)
        found = requests.filtered_inbox(db.session(), _filter(form))
        due = referrals.open_referrals(db.session(), town_ids)
        periods = retention.Periods.from_settings(current_settings())
        expiring = retention.expiring(db.session(), periods, utcnow(), town_ids)
    mail_problems = (0, 0)
    if access.may(g.staff, "mailbox"):
        since = utcnow() - timedelta(days=1)
        mail_problems = (
            len(outbox.undelivered(db.session(), since)),
            len(inbound.unmatched(db.session())),
        )
    return render_template(
        "staff/inbox.html",
        requests=found,
        referrals_due=due,
        expiring=expiring,
        mail_problems=mail_problems,
        form=form,
        may=lambda permission: access.may(g.staff, permission),
        signout_form=EmptyForm(),
    )


@bp.get("/audit")
@requires("audit")
def audit_log() -> str:
    """The whole audit log, newest first, optionally for one request."""
    reference = (request.args.get("reference") or "").strip()[:16]
    entries = audit.latest(db.session(), reference=reference)
    record("audit_view", detail=reference)
    db.commit()
    return render_template(
        "staff/audit.html", entries=entries, reference=reference, signout_form=EmptyForm()
    )


def _entry_form() -> EntryForm:
    form = EntryForm()
    form.contact_method.choices = contact_choices(towns.offices(db.session()))
    form.town.choices = [
        SelectChoice(town.slug, town.name)
        for town in towns.all_towns(db.session())
        if g.staff.may_read_town(town.id)
    ]
    return form


@bp.route("/requests/new", methods=["GET", "POST"])
@requires("requests")
def enter_request() -> Response | tuple[str, int] | str:
    """Enter a request that came by phone or at the counter; the colleague works on it."""
    form = _entry_form()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template(
            "staff/new_request.html", form=form, signout_form=EmptyForm()
        ), status
    settings = current_settings()
    submission = requests.enter_for_resident(
        db.session(),
        form.entry(),
        g.staff.id,
        settings.response_days,
        settings.urgent_response_days,
        settings.privacy_notice_version,
    )
    mail.queue_resident_confirmation(db.session(), submission.request, submission.status_token)
    record("enter", submission.request, submission.request.channel)
    db.commit()
    flash(_("Die Anfrage %(reference)s ist erfasst.", reference=submission.request.reference))
    return redirect(url_for("staff.request_detail", reference=submission.request.reference))
