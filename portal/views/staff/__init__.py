"""The staff area: sign-in, the inbox, working a request, email actions and the audit log.

Every route declares the permission it needs with :func:`requires`; a test walks the URL
map and fails for a staff route without one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from ... import db
from ...i18n import DEFAULT_LOCALE, EASY_LANGUAGE
from ...models import HelpRequest, StaffSession
from ...services import access, audit, requests, staff
from .. import current_settings

bp = Blueprint("staff", __name__, url_prefix="/<lang>/staff")
SESSION_KEY = "staff_token"
NEXT_KEY = "staff_next"
F = TypeVar("F", bound=Callable[..., Any])

# The staff area's sections, in the order of the navigation: endpoint, name, permission.
# A colleague sees the sections their role holds; each area adds its line here.
SECTIONS: list[tuple[str, Any, str]] = [
    ("staff.inbox", _l("Eingang"), "requests"),
    ("staff.mailbox", _l("Postfach"), "mailbox"),
    ("staff.accounts", _l("Konten"), "accounts"),
    ("staff.towns", _l("Städte"), "towns"),
    ("staff.hours", _l("Sprechzeiten"), "hours"),
    ("staff.figures", _l("Zahlen"), "figures"),
    ("staff.catalogue", _l("Angebote"), "catalogue"),
    ("staff.audit_log", _l("Protokoll"), "audit"),
    ("staff.security_log_page", _l("Sicherheit"), "security_log"),
]


@bp.context_processor
def _navigation() -> dict[str, Any]:
    """The sections the signed-in colleague may open, for the navigation of every staff page."""
    user = g.get("staff")
    if user is None:
        return {"staff_sections": []}
    return {
        "staff_sections": [
            (endpoint, name)
            for endpoint, name, permission in SECTIONS
            if access.may(user, permission)
        ]
    }


@bp.before_request
def _staff_speak_german() -> Response | None:
    """The staff area is not offered in Leichte Sprache: ``/ls/staff/…`` is ``/de/staff/…``.

    A GET is sent on (302); any other method keeps its body with a 307.
    """
    if g.get("lang") != EASY_LANGUAGE or request.endpoint is None:
        return None
    target = url_for(request.endpoint, **(request.view_args or {}), lang=DEFAULT_LOCALE)
    query = request.query_string.decode("latin-1")
    code = 302 if request.method in ("GET", "HEAD") else 307
    return redirect(f"{target}?{query}" if query else target, code=code)


def live_session() -> StaffSession | None:
    """The signed-in browser's server-side session, touched; ``None`` when gone."""
    settings = current_settings()
    found = staff.live_session(
        db.session(),
        session.get(SESSION_KEY),
        settings.staff_idle_minutes,
        settings.staff_absolute_hours,
    )
    db.commit()  # records the touch, or the expiry of an idle session
    return found


def requires(permission: str) -> Callable[[F], F]:
    """Let through fully signed-in staff whose role holds ``permission``.

    Everyone else goes to the sign-in page, which brings them back to the page they asked
    for (a GET) afterwards; a signed-in colleague without the permission gets 403.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = live_session()
            if found is None or found.stage != "full":
                if request.method == "GET":
                    session[NEXT_KEY] = request.full_path.rstrip("?")
                return redirect(url_for("staff.signin"))
            g.staff_session = found
            g.staff = found.staff
            if not access.may(found.staff, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapper.permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def readable_request(reference: str) -> HelpRequest:
    """The request with ``reference`` if the signed-in colleague may read it; else 404.

    A 404 rather than a 403, so that nobody learns that another town's request exists.
    """
    found = requests.request_by_reference(db.session(), reference)
    if found is None or not access.may_read(g.staff, found):
        abort(404)
    return found


def record(action: str, help_request: HelpRequest | None = None, detail: str = "") -> None:
    """Audit what the signed-in colleague did, from where; the caller commits."""
    audit.record(
        db.session(),
        g.staff.id,
        action,
        help_request,
        detail=detail,
        address=request.remote_addr or "",
    )


from . import (  # noqa: E402, F401  (routes register on import)
    accounts,
    auth,
    catalogue,
    confirm,
    figures,
    handover,
    hours,
    mailbox,
    overview,
    rights,
    security,
    towns,
    work,
)
