"""Blueprints: parse the request, call a service, render or redirect."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, redirect, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import db, mail, security
from ..config import Settings, settings_of
from ..forms.base import BaseForm
from ..mail import bookings as booking_mail
from ..models import HelpRequest, RequestDraft, utcnow
from ..services import audit, bookings, drafts, retention
from ..services import requests as request_service


def erase_at_residents_wish(found: HelpRequest) -> None:
    """Withdraw the request if open, cancel its appointments ahead (the bookers are told),
    tell the town's inbox without content, audit, and delete it all; then commit."""
    now = utcnow()
    if found.status in request_service.OPEN_STATUSES:
        request_service.withdraw(db.session(), found)
        for booking in bookings.cancel_active(db.session(), found, now):
            booking_mail.queue_booking_cancelled(db.session(), booking)
    mail.queue_request_changed(db.session(), found, "erased")
    audit.record(db.session(), None, "resident_erase", found)
    retention.erase(db.session(), found, now)
    db.commit()


def current_settings() -> Settings:
    """The typed settings of the running app."""
    return settings_of(current_app)


def may_confirm_to(address: str) -> bool:
    """Whether a confirmation email may go to ``address`` today; if not, say so on the next page.

    What was sent is stored and staff are told either way; only the email to the visitor is left
    out once the address had ``CONFIRMATION_MAILS_PER_DAY`` of them.
    """
    if not address or security.confirmation_allowed(address):
        return True
    flash(
        _(
            "Heute haben wir schon mehrere E-Mails an diese Adresse geschickt. Darum schicken wir keine weitere Bestätigung per E-Mail. Ihre Angaben sind trotzdem bei uns angekommen. Bitte notieren Sie sich, was auf dieser Seite steht."
        )
    )
    return False


def live_draft(cookie: str) -> RequestDraft:
    """The live draft whose key the session holds under ``cookie``; ``DraftExpired`` if none."""
    return drafts.load_draft(db.session(), session.get(cookie))


def draft_expired(cookie: str, start_endpoint: str) -> Response:
    """Forget a draft that is gone and send the visitor back to the start with a kind message."""
    session.pop(cookie, None)
    flash(
        _(
            "Ihre Angaben waren zu lange nicht in Gebrauch und wurden gelöscht. Bitte beginnen Sie neu."
        )
    )
    return redirect(url_for(start_endpoint))


def leave_for_elsewhere(draft: RequestDraft, cookie: str) -> Response:
    """Someone who lives elsewhere: delete what they entered and explain where to turn."""
    drafts.discard_draft(db.session(), draft)
    session.pop(cookie, None)
    db.commit()
    return redirect(url_for("request.elsewhere"))


def leave_without_authority(draft: RequestDraft, cookie: str) -> Response:
    """Someone who may not ask for the person, or does not know: delete what they entered
    about that person and explain what to do instead."""
    drafts.discard_draft(db.session(), draft)
    session.pop(cookie, None)
    db.commit()
    return redirect(url_for("request.no_authority"))


@dataclass(frozen=True)
class Step:
    """One page of a question flow: its form, the answers it sets, and whether it applies."""

    name: str
    form: type[BaseForm]
    fields: tuple[str, ...]
    applies: Callable[[dict[str, Any]], bool] = lambda answers: True
