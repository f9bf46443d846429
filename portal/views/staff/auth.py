"""Staff sign-in with password and one-time code (or a recovery code), and sign-out.

Every step is audited. The second factor is set up only through an activation link (see
:mod:`.accounts`); an account without one cannot sign in.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from ... import db
from ...forms.staff import CodeForm, EmptyForm, SignInForm
from ...models import StaffSession, StaffUser
from ...security import limiter
from ...security_events import security_event
from ...services import access, accounts, audit, staff
from ...services.errors import InvalidCredentials, TooManyAttempts
from .. import current_settings
from . import NEXT_KEY, SECTIONS, SESSION_KEY, bp, live_session

# A code or password tried too often: the code step and Mein Konto (the account is known there).
TOO_MANY = _l(
    "Zu viele Fehlversuche. Bitte warten Sie einige Minuten und versuchen Sie es dann noch einmal."
)
# Every failure at the first step gets this one answer: unknown address, wrong password or a
# wait after repeated failures, so that nobody learns which addresses have an account.
SIGNIN_FAILED = _l(
    "Die Anmeldung hat nicht geklappt. Bitte prüfen Sie E-Mail-Adresse und Passwort. Nach"
    " mehreren Fehlversuchen müssen Sie vor dem nächsten Versuch einige Minuten warten."
)

_live_session = live_session


def _audit(action: str, user: StaffUser | None) -> None:
    audit.record(db.session(), user.id if user else None, action, address=request.remote_addr or "")


def _account(email: str) -> StaffUser | None:
    return staff.account_by_email(db.session(), email)


def _signin_failed(email: str, waiting: bool) -> None:
    """Audit and log a refused first step: the account's id, or a keyed hash of the typed name."""
    user = _account(email)
    _audit("lockout" if waiting else "signin_failed", user)
    security_event(
        "signin_wait" if waiting else "signin_failed",
        staff_id=user.id if user else None,
        typed_account="" if user else email,
    )
    db.commit()


def landing(user: StaffUser) -> str:
    """The first section of the navigation the colleague's role may open, else "Mein Konto"."""
    for endpoint, _name, permission in SECTIONS:
        if access.may(user, permission):
            return url_for(endpoint)
    return url_for("staff.me")


def _may_open(user: StaffUser, path: str) -> bool:
    """Whether ``path`` is not a staff page the colleague's role would be refused."""
    try:
        endpoint, _args = current_app.url_map.bind("localhost").match(
            path.split("?", 1)[0], method="GET"
        )
    except (HTTPException, RequestRedirect):
        return False
    permission = getattr(current_app.view_functions.get(endpoint), "permission", None)
    return permission is None or access.may(user, permission)


def _safe_next(user: StaffUser) -> str:
    target = session.pop(NEXT_KEY, "")
    if (
        isinstance(target, str)
        and target.startswith("/")
        and not target.startswith("//")
        and _may_open(user, target)
    ):
        return target
    return landing(user)


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_signin, methods=["POST"])
def signin() -> Response | str:
    """Step one: email and password."""
    form = SignInForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        try:
            user = staff.verify_password(
                db.session(), email, form.password.data or "", allow_demo=current_settings().debug
            )
        except (TooManyAttempts, InvalidCredentials) as failure:
            _signin_failed(email, waiting=isinstance(failure, TooManyAttempts))
            form.password.errors = [str(SIGNIN_FAILED)]
        else:
            if not user.totp_enabled:
                _audit("signin_failed", user)
                db.commit()
                form.password.errors = [
                    _(
                        "Für Ihr Konto ist noch kein zweiter Faktor eingerichtet. Bitte bitten Sie"
                        " die Administration um einen neuen Link zum Einrichten."
                    )
                ]
                return render_template("staff/signin.html", form=form)
            next_path = session.get(NEXT_KEY)
            session.clear()  # a fresh session at every sign-in
            if next_path:
                session[NEXT_KEY] = next_path
            session[SESSION_KEY] = staff.open_session(db.session(), user, request.remote_addr or "")
            db.commit()
            return redirect(url_for("staff.code"))
    return render_template("staff/signin.html", form=form)


def _password_stage() -> StaffSession:
    found = _live_session()
    if found is None or found.stage != "password":
        abort(redirect(url_for("staff.signin")))
    return found


def _check_code(found: StaffSession, form: CodeForm) -> Response | None:
    """Verify the code; on success, complete the session and hand out a new token."""
    entered = form.code.data or ""
    recovery = accounts.looks_like_recovery_code(entered)
    try:
        if recovery:
            accounts.use_recovery_code(db.session(), found.staff, entered)
        else:
            staff.verify_code(db.session(), found.staff, entered)
    except TooManyAttempts:
        _audit("lockout", found.staff)
        security_event("signin_wait", staff_id=found.staff_id, detail="code")
        form.code.errors = [str(TOO_MANY)]
    except InvalidCredentials:
        _audit("signin_failed", found.staff)
        security_event(
            "code_failed", staff_id=found.staff_id, detail="recovery" if recovery else ""
        )
        form.code.errors = [
            _("Dieser Wiederherstellungs-Code stimmt nicht oder wurde schon benutzt.")
            if recovery
            else _(
                "Der Code stimmt nicht oder wurde schon benutzt. Bitte warten Sie auf den nächsten Code."
            )
        ]
    else:
        session[SESSION_KEY] = staff.upgrade_session(found)
        _audit("signin_recovery" if recovery else "signin", found.staff)
        security_event("signin_recovery" if recovery else "signin", staff_id=found.staff_id)
        db.commit()
        return redirect(_safe_next(found.staff))
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


@bp.post("/signout")
def signout() -> Response:
    """Revoke the server-side session; the old cookie stops working everywhere."""
    if EmptyForm().validate_on_submit():
        found = _live_session()
        if found is not None:
            staff.revoke_session(found)
            _audit("signout", found.staff)
            security_event("signout", staff_id=found.staff_id)
            db.commit()
    session.clear()
    flash(_("Sie sind abgemeldet."))
    return redirect(url_for("staff.signin"))
