"""Blueprints: parse the request, call a service, render or redirect."""

from flask import current_app, flash, g, request
from flask_babel import gettext as _

from .. import db, mail, security
from ..config import Settings, settings_of
from ..mail import bookings as booking_mail
from ..models import HelpRequest, utcnow
from ..page_cache.middleware import REVISION_KEY
from ..services import audit, bookings, retention
from ..services import requests as request_service
from ..services.catalogue_results import CachedSearch
from ..services.content import Revision
from ..services.search_cache import ResultCache

SEARCH_CACHE = "portal.search_cache"


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


def search_cache() -> ResultCache[object]:
    """The running app's cache of search results (one per process, made on first use)."""
    cache: ResultCache[object] | None = current_app.extensions.get(SEARCH_CACHE)
    if cache is None:
        made: ResultCache[object] = ResultCache(current_settings().search_cache_entries)
        cache = current_app.extensions.setdefault(SEARCH_CACHE, made)
    return cache


def cached_search() -> CachedSearch:
    """This request's searches, from the process's cache under one content revision.

    A visitor without a session came through the page cache, which read the revision at most
    ``PAGE_CACHE_REVISION_SECONDS`` ago and keys the page by it: the results go by the same
    one, with no query. Everyone else (staff after an edit) has it read for their request.
    """
    if "cached_search" not in g:
        known: Revision | None = request.environ.get(REVISION_KEY)
        g.cached_search = CachedSearch(db.session(), search_cache(), known.tag if known else None)
    found: CachedSearch = g.cached_search
    return found


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
