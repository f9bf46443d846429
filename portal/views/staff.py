"""Staff sign-in with password and one-time code, the inbox and the request page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import segno
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import db, labels
from ..forms.staff import CodeForm, EmptyForm, InboxFilterForm, SignInForm
from ..models import REQUEST_STATUSES, StaffSession
from ..security import limiter
from ..services import audit, catalogue, requests, staff
from ..services.errors import InvalidCredentials, TooManyAttempts
from . import current_settings

bp = Blueprint("staff", __name__, url_prefix="/<lang>/staff")
SESSION_KEY = "staff_token"
NEXT_KEY = "staff_next"
F = TypeVar("F", bound=Callable[..., Any])


def _live_session() -> StaffSession | None:
    settings = current_settings()
    found = staff.live_session(
        db.session(),
        session.get(SESSION_KEY),
        settings.staff_idle_minutes,
        settings.staff_absolute_hours,
    )
    db.commit()  # records the touch, or the expiry of an idle session
    return found


def signed_in(view: F) -> F:
    """Let only fully signed-in staff through; everyone else goes to the sign-in page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        found = _live_session()
        if found is None or found.stage != "full":
            session[NEXT_KEY] = request.path
            return redirect(url_for("staff.signin"))
        g.staff_session = found
        g.staff = found.staff
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _safe_next() -> str:
    target = session.pop(NEXT_KEY, "")
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("staff.inbox")


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_signin, methods=["POST"])
def signin() -> Response | str:
    """Step one: email and password."""
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = staff.verify_password(
                db.session(), form.email.data or "", form.password.data or ""
            )
        except TooManyAttempts:
            db.commit()
            form.password.errors = [
                _("Zu viele Fehlversuche. Bitte versuchen Sie es in einer Stunde wieder.")
            ]
        except InvalidCredentials:
            db.commit()
            form.password.errors = [_("E-Mail-Adresse oder Passwort stimmen nicht.")]
        else:
            next_path = session.get(NEXT_KEY)
            session.clear()  # a fresh session at every sign-in
            if next_path:
                session[NEXT_KEY] = next_path
            session[SESSION_KEY] = staff.open_session(db.session(), user)
            db.commit()
            return redirect(url_for("staff.code" if user.totp_enabled else "staff.enrol"))
    return render_template("staff/signin.html", form=form)


def _password_stage() -> StaffSession:
    found = _live_session()
    if found is None or found.stage != "password":
        abort(redirect(url_for("staff.signin")))
    return found


def _check_code(found: StaffSession, form: CodeForm) -> Response | None:
    """Verify the code; on success, complete the session and hand out a new token."""
    try:
        staff.verify_code(found.staff, form.code.data or "")
    except TooManyAttempts:
        form.code.errors = [
            _("Zu viele Fehlversuche. Bitte versuchen Sie es in einer Stunde wieder.")
        ]
    except InvalidCredentials:
        form.code.errors = [
            _(
                "Der Code stimmt nicht oder wurde schon benutzt. Bitte warten Sie auf den nächsten Code."
            )
        ]
    else:
        session[SESSION_KEY] = staff.upgrade_session(found)
        db.commit()
        return redirect(_safe_next())
    db.commit()
    return None


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_signin, methods=["POST"])
def code() -> Response | str:
    """Step two: the one-time code."""
    found = _password_stage()
    form = CodeForm()
    if form.validate_on_submit():
        done = _check_code(found, form)
        if done is not None:
            return done
    return render_template("staff/code.html", form=form)


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_signin, methods=["POST"])
def enrol() -> Response | str:
    """First sign-in: set up the authenticator app with a QR code drawn on our side."""
    found = _password_stage()
    if found.staff.totp_enabled:
        return redirect(url_for("staff.code"))
    form = CodeForm()
    if form.validate_on_submit():
        done = _check_code(found, form)
        if done is not None:
            return done
    qr = segno.make(staff.totp_uri(found.staff), error="m")
    svg = qr.svg_inline(scale=5, dark="#000", light="#fff", omitsize=False)
    return render_template(
        "staff/enrol.html",
        form=form,
        qr_svg=Markup(svg),  # noqa: S704 - SVG made by segno from our own URI
        secret=found.staff.totp_secret,
    )


@bp.post("/signout")
def signout() -> Response:
    """Revoke the server-side session; the old cookie stops working everywhere."""
    if EmptyForm().validate_on_submit():
        found = _live_session()
        if found is not None:
            staff.revoke_session(found)
            db.commit()
    session.clear()
    flash(_("Sie sind abgemeldet."))
    return redirect(url_for("staff.signin"))


def _readable_towns() -> list[int] | None:
    user = g.staff
    if user.role in ("coordinator", "admin"):
        return None
    return [user.town_id] if user.role == "caseworker" and user.town_id else []


@bp.get("/")
@signed_in
def inbox() -> str:
    """Requests of the staff member's town(s), newest first."""
    form = InboxFilterForm(request.args)
    form.status.choices = [SelectChoice("", _("Alle"))] + [
        SelectChoice(code, str(labels.STATUS_SHORT[code])) for code in REQUEST_STATUSES
    ]
    status = form.status.data if form.status.data in REQUEST_STATUSES else None
    found = requests.requests_for_inbox(db.session(), _readable_towns(), status)
    return render_template("staff/inbox.html", requests=found, form=form, signout_form=EmptyForm())


@bp.get("/requests/<reference>")
@signed_in
def request_detail(reference: str) -> str:
    """The whole request; every read is written to the audit log."""
    found = requests.request_by_reference(db.session(), reference)
    if found is None or not g.staff.may_read_town(found.town_id):
        abort(404)
    audit.record(db.session(), g.staff.id, "view", found.id)
    db.commit()
    return render_template(
        "staff/request.html",
        help_request=found,
        offer=catalogue.service_by_id(db.session(), found.catalogue_service_id or ""),
        in_language=catalogue.in_language,
        trail=audit.entries_for_request(db.session(), found.id),
        signout_form=EmptyForm(),
    )
