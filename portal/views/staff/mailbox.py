"""The coordinator's mailbox: emails that never arrived, and replies that matched nothing."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ... import db
from ...forms.staff import EmptyForm, FileMailForm
from ...models import InboundMail, utcnow
from ...services import inbound, outbox, requests
from ...services.errors import AlreadyResolved
from . import bp, record, requires

UNDELIVERED_DAYS = 14


def _render(
    file_forms: dict[int, FileMailForm] | None = None, status: int = 200
) -> tuple[str, int]:
    session = db.session()
    waiting = inbound.unmatched(session)
    forms = {
        mail.id: (file_forms or {}).get(mail.id)
        or FileMailForm(prefix=f"file{mail.id}", formdata=None)
        for mail in waiting
    }
    html = render_template(
        "staff/mailbox.html",
        undelivered=outbox.undelivered(session, utcnow() - timedelta(days=UNDELIVERED_DAYS)),
        unmatched=waiting,
        file_forms=forms,
        dismiss_form=EmptyForm(prefix="dismiss"),
        has_errors=bool(file_forms),
        reference_of=lambda request_id: requests.reference_of(session, request_id),
        days=UNDELIVERED_DAYS,
        signout_form=EmptyForm(),
    )
    return html, status


@bp.get("/mailbox")
@requires("mailbox")
def mailbox() -> str:
    """Undelivered notifications of the last two weeks and mail waiting to be filed."""
    return _render()[0]


def _open_mail(mail_id: int) -> InboundMail:
    found = inbound.mail_by_id(db.session(), mail_id)
    if found is None or found.kind != "unmatched":
        abort(404)
    return found


@bp.post("/mailbox/<int:mail_id>/file")
@requires("mailbox")
def file_mail(mail_id: int) -> Response | tuple[str, int]:
    """File a message on the request the coordinator names."""
    mail = _open_mail(mail_id)
    form = FileMailForm(prefix=f"file{mail_id}")
    target = None
    if form.validate_on_submit():
        target = requests.request_by_reference(db.session(), form.reference.data or "")
        if target is None:
            form.reference.errors = [_("Eine Anfrage mit dieser Nummer gibt es nicht.")]
    if target is None:
        return _render({mail_id: form}, 400)
    try:
        inbound.attach(db.session(), mail, target, g.staff, utcnow())
    except AlreadyResolved:
        db.rollback()
        flash(_("Diese E-Mail wurde schon zugeordnet oder erledigt."))
        return redirect(url_for("staff.mailbox"))
    record("mail_file", target)
    db.commit()
    flash(_("Die E-Mail ist der Anfrage %(reference)s zugeordnet.", reference=target.reference))
    return redirect(url_for("staff.mailbox"))


@bp.post("/mailbox/<int:mail_id>/dismiss")
@requires("mailbox")
def dismiss_mail(mail_id: int) -> Response:
    """Set a message aside (spam, or nothing to do); its raw form is deleted."""
    mail = _open_mail(mail_id)
    if not EmptyForm(prefix="dismiss").validate_on_submit() or mail.resolved_at is not None:
        flash(_("Diese E-Mail wurde schon zugeordnet oder erledigt."))
        return redirect(url_for("staff.mailbox"))
    inbound.dismiss(db.session(), mail, g.staff, utcnow())
    record("mail_dismiss", detail=str(mail_id))
    db.commit()
    flash(_("Die E-Mail ist als erledigt markiert."))
    return redirect(url_for("staff.mailbox"))
