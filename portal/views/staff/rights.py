"""The requester's rights in the staff area: see everything stored (readable and as JSON) and
erase it at their wish. Every export and every erasure is audited, without content."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ... import db, labels
from ...forms import staff as forms
from ...mail import bookings as booking_mail
from ...models import HelpRequest, utcnow
from ...services import bookings, catalogue, disclosure, retention, towns
from . import bp, readable_request, record, requires


def _facts(found: HelpRequest) -> dict[str, object]:
    """What the shared template of the person's answers needs besides the request."""
    session = db.session()
    return {
        "offer": catalogue.service_by_id(session, found.catalogue_service_id or ""),
        "in_language": catalogue.in_language,
        "language_name": catalogue.language_name,
        "contact_label": labels.contact_method(
            found.contact_method, towns.office_for(session, found.contact_method)
        ),
    }


@bp.get("/requests/<reference>/export")
@requires("requests")
def request_export(reference: str) -> str:
    """Everything stored about the request on one page, to print or pass on; audited."""
    found = readable_request(reference)
    export = disclosure.collect(db.session(), found)
    record("export", found, "html")
    db.commit()
    return render_template(
        "staff/request_export.html",
        help_request=found,
        export=export,
        signout_form=forms.EmptyForm(),
        **_facts(found),
    )


@bp.get("/requests/<reference>/export.json")
@requires("requests")
def request_export_json(reference: str) -> Response:
    """Everything stored about the request as a JSON file; audited."""
    found = readable_request(reference)
    document = disclosure.as_json(disclosure.collect(db.session(), found), utcnow())
    record("export", found, "json")
    db.commit()
    response = Response(document, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.reference}.json"'
    return response


@bp.route("/requests/<reference>/erase", methods=["GET", "POST"])
@requires("requests")
def request_erase(reference: str) -> Response | tuple[str, int]:
    """Ask once more, then delete the request with everything that belongs to it."""
    found = readable_request(reference)
    form = forms.EraseForm(prefix="erase")
    if not form.validate_on_submit():
        page = render_template(
            "staff/request_erase.html",
            help_request=found,
            form=form,
            signout_form=forms.EmptyForm(),
        )
        return page, 400 if form.errors else 200
    # Appointments still ahead are cancelled first, and the booker told, as on closing.
    for booking in bookings.cancel_active(db.session(), found, utcnow()):
        booking_mail.queue_booking_cancelled(db.session(), booking)
    record("erase", found)
    retention.erase(db.session(), found)
    db.commit()
    flash(_("Die Anfrage %(reference)s ist gelöscht.", reference=reference))
    return redirect(url_for("staff.inbox"))
