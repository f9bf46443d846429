"""Staff accounts: administrators invite and run accounts; everyone runs "Mein Konto";
a one-time activation link lets a colleague set a password and the second factor.

Every change is audited; the account's owner gets an email whenever its password, second
factor or recovery codes change.
"""

from __future__ import annotations

import segno
from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import db
from ...forms.accounts import (
    TOWN_NEEDED,
    ActivationForm,
    InviteForm,
    PasswordChangeForm,
    RoleForm,
)
from ...forms.staff import EmptyForm
from ...mail import accounts as account_mail
from ...models import StaffActivation, StaffUser, Town
from ...security import limiter
from ...security_events import security_event
from ...services import access, audit, staff, towns
from ...services import accounts as rules
from ...services.errors import (
    AccountExists,
    ActivationInvalid,
    InvalidCredentials,
    LastAdministrator,
    TooManyAttempts,
    TownNeeded,
    WeakPassword,
)
from .. import current_settings
from . import bp, record, requires
from .auth import TOO_MANY

ACTIVATION_KEY = "staff_activation"


def _weak_password(reason: str) -> str:
    """Why a new password was refused, in words."""
    if reason == "long":
        return ngettext(
            "Das Passwort darf höchstens %(num)d Zeichen lang sein.",
            "Das Passwort darf höchstens %(num)d Zeichen lang sein.",
            staff.MAX_PASSWORD,
        )
    if reason == "short":
        return ngettext(
            "Das Passwort muss mindestens %(num)d Zeichen lang sein.",
            "Das Passwort muss mindestens %(num)d Zeichen lang sein.",
            staff.MIN_PASSWORD,
        )
    return _(
        "Dieses Passwort ist zu leicht zu erraten. Nehmen Sie zum Beispiel mehrere Wörter,"
        " die nicht zusammengehören."
    )


def _town_choices(form: RoleForm | InviteForm) -> None:
    form.towns.choices = [
        SelectChoice(town.slug, town.name) for town in towns.all_towns(db.session())
    ]


def _chosen_towns(form: RoleForm | InviteForm) -> list[Town]:
    """The towns ticked in ``form``, in id order."""
    wanted = set(form.towns.data or [])
    return [town for town in towns.all_towns(db.session()) if town.slug in wanted]


def _town_needed(form: RoleForm | InviteForm) -> None:
    """Show the service's refusal of a caseworker without a town next to the towns."""
    form.towns.errors = [str(TOWN_NEEDED)]


def _account_or_404(staff_id: int) -> StaffUser:
    found = rules.account(db.session(), staff_id)
    if found is None:
        abort(404)
    return found


# --- Administrators: the list of accounts and inviting a colleague ------------------------


@bp.route("/accounts", methods=["GET", "POST"])
@requires("accounts")
def accounts() -> Response | tuple[str, int]:
    """Every staff account, and a form to invite a colleague by email."""
    form = InviteForm()
    _town_choices(form)
    if form.validate_on_submit():
        try:
            activation = rules.invite(
                db.session(),
                form.email.data or "",
                form.role.data or "",
                _chosen_towns(form),
                form.name.data or "",
            )
        except TownNeeded:
            _town_needed(form)
        except AccountExists:
            form.email.errors = [_("Für diese E-Mail-Adresse gibt es schon ein Konto.")]
        else:
            account_mail.queue_activation(db.session(), activation, invited=True)
            record("account_invite", detail=activation.user.email)
            db.commit()
            flash(
                _(
                    "%(email)s ist eingeladen und bekommt einen Link zum Einrichten.",
                    email=activation.user.email,
                )
            )
            return redirect(url_for("staff.account", staff_id=activation.user.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "staff/accounts.html",
        accounts=rules.all_accounts(db.session()),
        activation_hours=rules.ACTIVATION_HOURS,
        form=form,
        signout_form=EmptyForm(),
    ), status


def _account_page(
    user: StaffUser, role_form: RoleForm | None = None, status: int = 200, refusal: str = ""
) -> tuple[str, int]:
    if role_form is None:
        role_form = RoleForm(
            formdata=None, role=user.role, towns=[town.slug for town in user.towns]
        )
    _town_choices(role_form)
    return render_template(
        "staff/account.html",
        account=user,
        role_form=role_form,
        action_form=EmptyForm(),
        sessions=rules.live_sessions(db.session(), user, current_settings().staff_idle_minutes),
        recovery_left=rules.unused_recovery_codes(db.session(), user),
        end_url=lambda session_id: url_for(
            "staff.account_session_end", staff_id=user.id, session_id=session_id
        ),
        refusal=refusal,
        signout_form=EmptyForm(),
    ), status


@bp.get("/accounts/<int:staff_id>")
@requires("accounts")
def account(staff_id: int) -> tuple[str, int]:
    """One account: role and towns, disable or enable, resets and its sessions."""
    return _account_page(_account_or_404(staff_id))


def _done(user: StaffUser, message: str) -> Response:
    """Commit, say what happened, and show the account again (or "Mein Konto" to someone who
    just gave up their own administrator role)."""
    db.commit()
    flash(message)
    if not access.may(g.staff, "accounts"):
        return redirect(url_for("staff.me"))
    return redirect(url_for("staff.account", staff_id=user.id))


def _refuse_last_admin(user: StaffUser) -> tuple[str, int]:
    """Nothing changed: the account is the last active administrator."""
    db.rollback()
    return _account_page(
        user,
        status=409,
        refusal=_(
            "Dann gäbe es keine aktive Administration mehr. Geben Sie zuerst einer anderen"
            " Person die Rolle Administration."
        ),
    )


@bp.post("/accounts/<int:staff_id>/role")
@requires("accounts")
def account_role(staff_id: int) -> Response | tuple[str, int]:
    """Change role and towns."""
    user = _account_or_404(staff_id)
    form = RoleForm()
    _town_choices(form)
    if not form.validate_on_submit():
        return _account_page(user, form, 400)
    try:
        rules.change_role(db.session(), user, form.role.data or "", _chosen_towns(form))
    except TownNeeded:
        _town_needed(form)
        return _account_page(user, form, 400)
    except LastAdministrator:
        return _refuse_last_admin(user)
    slugs = ",".join(town.slug for town in user.towns)
    record("account_role", detail=f"{user.email}: {user.role} {slugs}".rstrip())
    return _done(user, _("Rolle und Orte sind gespeichert."))


@bp.post("/accounts/<int:staff_id>/disable")
@requires("accounts")
def account_disable(staff_id: int) -> Response | tuple[str, int]:
    """Disable the account; all its sessions end at once."""
    user = _account_or_404(staff_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        rules.set_active(db.session(), user, False)
    except LastAdministrator:
        return _refuse_last_admin(user)
    record("account_disable", detail=user.email)
    if user.id == g.staff.id:
        db.commit()
        session.clear()
        flash(_("Ihr Konto ist gesperrt. Sie sind abgemeldet."))
        return redirect(url_for("staff.signin"))
    return _done(user, _("Das Konto ist gesperrt. Alle Sitzungen sind beendet."))


@bp.post("/accounts/<int:staff_id>/enable")
@requires("accounts")
def account_enable(staff_id: int) -> Response:
    """Enable a disabled account again."""
    user = _account_or_404(staff_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    rules.set_active(db.session(), user, True)
    record("account_enable", detail=user.email)
    return _done(user, _("Das Konto ist wieder freigegeben."))


@bp.post("/accounts/<int:staff_id>/reset-password")
@requires("accounts")
def account_reset_password(staff_id: int) -> Response:
    """Clear the password and send a link to set a new one."""
    user = _account_or_404(staff_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    activation = rules.reset_password(db.session(), user)
    account_mail.queue_activation(db.session(), activation, invited=False)
    record("account_reset_password", detail=user.email)
    security_event("password_reset", staff_id=user.id, detail=f"by {g.staff.id}")
    return _done(
        user, _("Das Passwort ist zurückgesetzt. %(email)s bekommt einen Link.", email=user.email)
    )


@bp.post("/accounts/<int:staff_id>/reset-factor")
@requires("accounts")
def account_reset_factor(staff_id: int) -> Response:
    """Drop the second factor and send a link to set it up again."""
    user = _account_or_404(staff_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    activation = rules.reset_factor(db.session(), user)
    account_mail.queue_activation(db.session(), activation, invited=False)
    record("account_reset_factor", detail=user.email)
    security_event("factor_reset", staff_id=user.id, detail=f"by {g.staff.id}")
    return _done(
        user,
        _("Der zweite Faktor ist zurückgesetzt. %(email)s bekommt einen Link.", email=user.email),
    )


@bp.post("/accounts/<int:staff_id>/resend")
@requires("accounts")
def account_resend(staff_id: int) -> Response:
    """Send a new link for what the account still lacks (after an expired invitation)."""
    user = _account_or_404(staff_id)
    if not EmptyForm().validate_on_submit() or user.ready:
        abort(400)
    activation = rules.resend_invitation(db.session(), user)
    account_mail.queue_activation(db.session(), activation, invited=not user.password_hash)
    record("account_resend", detail=user.email)
    return _done(user, _("Ein neuer Link ist an %(email)s unterwegs.", email=user.email))


@bp.post("/accounts/<int:staff_id>/sessions/<int:session_id>/end")
@requires("accounts")
def account_session_end(staff_id: int, session_id: int) -> Response:
    """End one of the account's sessions."""
    user = _account_or_404(staff_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not rules.end_session(db.session(), user, session_id):
        abort(404)
    record("session_end", detail=user.email)
    security_event("session_end", staff_id=user.id, detail=f"by {g.staff.id}")
    return _done(user, _("Die Sitzung ist beendet."))


@bp.post("/accounts/<int:staff_id>/sessions/end")
@requires("accounts")
def account_sessions_end(staff_id: int) -> Response:
    """End every session of the account."""
    user = _account_or_404(staff_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    staff.revoke_all_sessions(db.session(), user)
    record("session_end_all", detail=user.email)
    security_event("session_end", staff_id=user.id, detail=f"all by {g.staff.id}")
    return _done(user, _("Alle Sitzungen sind beendet."))


# --- Everyone: "Mein Konto" ----------------------------------------------------------------


def _me_page(password_form: PasswordChangeForm | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "staff/me.html",
        min_password=staff.MIN_PASSWORD,
        password_form=password_form or PasswordChangeForm(formdata=None),
        action_form=EmptyForm(),
        sessions=rules.live_sessions(db.session(), g.staff, current_settings().staff_idle_minutes),
        recovery_left=rules.unused_recovery_codes(db.session(), g.staff),
        end_url=lambda session_id: url_for("staff.me_session_end", session_id=session_id),
        signout_form=EmptyForm(),
    ), status


@bp.get("/me")
@requires("signed_in")
def me() -> tuple[str, int]:
    """One's own account: password, sessions and recovery codes."""
    return _me_page()


@bp.post("/me/password")
@requires("signed_in")
@limiter.limit(lambda: current_settings().rate_limit_signin)
def me_password() -> Response | tuple[str, int]:
    """Change one's own password; the current one is needed. Other sessions end."""
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _me_page(form, 400)
    user: StaffUser = g.staff
    try:
        rules.change_own_password(
            db.session(), user, form.current.data or "", form.password.data or ""
        )
    except TooManyAttempts:
        form.current.errors = [str(TOO_MANY)]
    except InvalidCredentials:
        db.commit()
        form.current.errors = [_("Das jetzige Passwort stimmt nicht.")]
    except WeakPassword as weak:
        form.password.errors = [_weak_password(weak.reason)]
    else:
        staff.revoke_all_sessions(db.session(), user, keep=g.staff_session)
        account_mail.queue_account_changed(db.session(), user, ["password"])
        record("password_change")
        security_event("password_change", staff_id=user.id)
        db.commit()
        flash(_("Ihr neues Passwort ist gespeichert. Ihre anderen Sitzungen sind beendet."))
        return redirect(url_for("staff.me"))
    return _me_page(form, 400)


@bp.post("/me/sessions/<int:session_id>/end")
@requires("signed_in")
def me_session_end(session_id: int) -> Response:
    """End one of one's own sessions (ending this one signs out)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not rules.end_session(db.session(), g.staff, session_id):
        abort(404)
    record("session_end", detail=g.staff.email)
    security_event("session_end", staff_id=g.staff.id, detail="own")
    db.commit()
    if session_id == g.staff_session.id:
        session.clear()
        flash(_("Sie sind abgemeldet."))
        return redirect(url_for("staff.signin"))
    flash(_("Die Sitzung ist beendet."))
    return redirect(url_for("staff.me"))


@bp.post("/me/recovery-codes")
@requires("signed_in")
def me_recovery_codes() -> str:
    """Make new recovery codes, shown once on this page; the old ones stop working."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    codes = rules.new_recovery_codes(db.session(), g.staff)
    account_mail.queue_account_changed(db.session(), g.staff, ["recovery_codes"])
    record("recovery_codes")
    security_event("recovery_codes", staff_id=g.staff.id)
    db.commit()
    return render_template(
        "staff/recovery_codes.html",
        codes=codes,
        next_url=url_for("staff.me"),
        signout_form=EmptyForm(),
    )


# --- The activation link -------------------------------------------------------------------


@bp.get("/activate/<token>")
def activate_link(token: str) -> Response:
    """Move the link's token into the session and continue without it in the address."""
    session[ACTIVATION_KEY] = token[:100]
    return redirect(url_for("staff.activate"))


def _activation_page(
    activation: StaffActivation, form: ActivationForm, status: int
) -> tuple[str, int]:
    qr_svg = None
    if activation.sets_factor:
        qr = segno.make(staff.totp_uri(activation.staff), error="m")
        qr_svg = Markup(  # noqa: S704 - SVG made by segno from our own URI
            qr.svg_inline(scale=5, dark="#000", light="#fff", omitsize=False)
        )
    return render_template(
        "staff/activate.html",
        form=form,
        min_password=staff.MIN_PASSWORD,
        activation=activation,
        qr_svg=qr_svg,
        secret=activation.staff.totp_secret,
    ), status


def _complete(activation: StaffActivation, form: ActivationForm) -> Response | str | None:
    """Store what the link asks for; ``None`` when the form shows an error."""
    user = activation.staff
    try:
        codes = rules.complete_activation(
            db.session(),
            activation,
            form.password.data if activation.sets_password else "",
            form.code.data if activation.sets_factor else "",
        )
    except WeakPassword as weak:
        form.password.errors = [_weak_password(weak.reason)]
        return None
    except TooManyAttempts:
        db.commit()
        form.code.errors = [str(TOO_MANY)]
        return None
    except InvalidCredentials:
        db.commit()
        form.code.errors = [
            _(
                "Der Code stimmt nicht. Bitte prüfen Sie die Uhrzeit Ihres Telefons und versuchen Sie es noch einmal."
            )
        ]
        return None
    changes = (["password"] if activation.sets_password else []) + (
        ["factor"] if activation.sets_factor else []
    )
    account_mail.queue_account_changed(db.session(), user, changes)
    audit.record(db.session(), user.id, "account_activate", address=request.remote_addr or "")
    security_event("activation", staff_id=user.id, detail=",".join(changes))
    db.commit()
    session.pop(ACTIVATION_KEY, None)
    if codes:
        return render_template(
            "staff/recovery_codes.html", codes=codes, next_url=url_for("staff.signin")
        )
    flash(_("Ihr neues Passwort ist gespeichert. Bitte melden Sie sich an."))
    return redirect(url_for("staff.signin"))


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_signin, methods=["POST"])
def activate() -> Response | str | tuple[str, int]:
    """Set a password and/or set up the second factor, as the link asks; then recovery codes."""
    try:
        activation = rules.open_activation(db.session(), session.get(ACTIVATION_KEY))
    except ActivationInvalid:
        return render_template("staff/activate_invalid.html"), 410
    form = ActivationForm()
    if not activation.sets_password:
        del form.password
        del form.password_again
    if not activation.sets_factor:
        del form.code
    if form.validate_on_submit():
        try:
            done = _complete(activation, form)
        except ActivationInvalid:
            db.rollback()
            return render_template("staff/activate_invalid.html"), 410
        if done is not None:
            return done
    return _activation_page(activation, form, 400 if form.is_submitted() else 200)
