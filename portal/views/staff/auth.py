"""Staff sign-in with password and one-time code, and sign-out; every step is audited."""

from __future__ import annotations

import segno
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from ... import db
from ...forms.staff import CodeForm, EmptyForm, SignInForm
from ...models import StaffSession, StaffUser
from ...security import limiter
from ...services import audit, staff
from ...services.errors import InvalidCredentials, TooManyAttempts
from .. import current_settings
from . import NEXT_KEY, SESSION_KEY, bp, live_session

_live_session = live_session


def _audit(action: str, user: StaffUser | None) -> None:
    audit.record(db.session(), user.id if user else None, action, address=request.remote_addr or "")


def _account(email: str) -> StaffUser | None:
    return staff.account_by_email(db.session(), email)


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
            _audit("lockout", _account(form.email.data or ""))
            db.commit()
            form.password.errors = [
                _("Zu viele Fehlversuche. Bitte versuchen Sie es in einer Stunde wieder.")
            ]
        except InvalidCredentials:
            _audit("signin_failed", _account(form.email.data or ""))
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
        _audit("lockout", found.staff)
        form.code.errors = [
            _("Zu viele Fehlversuche. Bitte versuchen Sie es in einer Stunde wieder.")
        ]
    except InvalidCredentials:
        _audit("signin_failed", found.staff)
        form.code.errors = [
            _(
                "Der Code stimmt nicht oder wurde schon benutzt. Bitte warten Sie auf den nächsten Code."
            )
        ]
    else:
        session[SESSION_KEY] = staff.upgrade_session(found)
        _audit("signin", found.staff)
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
            _audit("signout", found.staff)
            db.commit()
    session.clear()
    flash(_("Sie sind abgemeldet."))
    return redirect(url_for("staff.signin"))
