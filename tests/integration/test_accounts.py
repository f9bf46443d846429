"""Staff accounts through the real SMTP server: inviting, the one-time activation link,
recovery codes, resets, disabling, the last administrator and "Mein Konto"."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from portal.db import get_db
from portal.models import AuditEntry, OutboxMessage, StaffActivation, StaffUser, utcnow
from portal.services import accounts, staff
from portal.services.errors import ActivationInvalid
from tests.conftest import CheckingClient, Mailbox, csrf_token, deliver, post_form
from tests.expect import present
from tests.integration.test_staff import PASSWORD, make_staff, sign_in

NEW_PASSWORD = "blue kettle under the stairs"


@pytest.fixture(autouse=True)
def _check_every_page(app: Flask) -> None:
    """Every page these tests open is checked for language, title, one h1 and no script."""
    app.test_client_class = CheckingClient


def _text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def _mails(app: Flask, mailbox: Mailbox, address: str) -> list[str]:
    deliver(app)
    return [_text(message) for message in mailbox.to(address)]


def _link(text: str) -> str:
    match = re.search(r"https?://[^/\s]+(/de/staff/activate/\S+)", text)
    assert match, text
    return match.group(1)


def _admin(app: Flask, email: str = "admin@example.org") -> FlaskClient:
    secret = make_staff(app, email, None, role="admin")
    client = app.test_client()
    sign_in(client, email, secret)
    return client


def _account_id(app: Flask, email: str) -> int:
    with get_db(app).session() as session:
        return session.scalars(select(StaffUser.id).where(StaffUser.email == email)).one()


def _post(client: FlaskClient, url: str, data: dict[str, str] | None = None) -> TestResponse:
    token = csrf_token(client, "/de/staff/me")
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _invite(
    admin: FlaskClient, email: str, role: str = "caseworker", town: str | list[str] = "verl"
) -> TestResponse:
    towns = [town] if isinstance(town, str) and town else (town or [])
    return post_form(
        admin,
        "/de/staff/accounts",
        {"name": "Nora Neu", "email": email, "role": role, "towns": towns},
    )


def _activate(
    client: FlaskClient, link: str, password: str | None = NEW_PASSWORD
) -> tuple[str, TestResponse]:
    """Open the link, read the secret from the page, send password and code; the secret and
    the answer."""
    response = client.get(link)
    assert response.headers["Location"].endswith("/de/staff/activate")  # the token leaves the URL
    page = client.get("/de/staff/activate").get_data(as_text=True)
    secret = re.search(r'class="secret" dir="ltr">([A-Z2-7]+)<', page)
    data = {"code": pyotp.TOTP(secret.group(1)).now()} if secret else {}
    if password is not None:
        data |= {"password": password, "password_again": password}
    return (secret.group(1) if secret else ""), post_form(client, "/de/staff/activate", data)


def test_an_invited_colleague_sets_password_and_factor_through_the_link_and_signs_in(
    app: Flask, mailbox: Mailbox
) -> None:
    admin = _admin(app)
    response = _invite(admin, "nora@example.org")
    assert response.status_code == 302
    listing = admin.get("/de/staff/accounts").get_data(as_text=True)
    assert "nora@example.org" in listing and "wartet auf Einrichtung" in listing
    [invitation] = _mails(app, mailbox, "nora@example.org")
    assert "72 Stunden" in invitation
    # one sentence a line, as it arrives
    assert re.search(r"bekommen\.\r?\nÜber den Link", invitation)
    link = _link(invitation)
    with get_db(app).session() as session:
        stored = session.scalars(select(StaffActivation)).one()
        assert link.rsplit("/", 1)[1] not in stored.token_hash  # only a hash is stored
        sent = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "staff_activation")
        )
        for message in sent:  # once delivered, the database keeps no copy of the link
            assert message.status == "sent"
            assert link.rsplit("/", 1)[1] not in message.body_text + message.body_html
    # Before the link is used, no password signs in.
    refused = post_form(
        app.test_client(), "/de/staff/signin", {"email": "nora@example.org", "password": ""}
    )
    assert refused.status_code == 200
    colleague = app.test_client()
    secret, answer = _activate(colleague, link)
    codes_page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Wiederherstellungs-Codes" in codes_page
    assert (
        len(re.findall(r'<li><code dir="ltr">[a-z2-9]{5}-[a-z2-9]{5}</code></li>', codes_page))
        == 10
    )
    notices = _mails(app, mailbox, "nora@example.org")[1:]
    assert len(notices) == 1 and "Passwort" in notices[0] and "zweite Faktor" in notices[0]
    assert "Wenn Sie das nicht waren" in notices[0]
    # The link works once.
    assert colleague.get(link).status_code == 302
    assert colleague.get("/de/staff/activate").status_code == 410
    # Signing in lands on the first section the role may open.
    response = sign_in(app.test_client(), "nora@example.org", secret, NEW_PASSWORD, ahead=1)
    assert response.headers["Location"].endswith("/de/staff/")
    with get_db(app).session() as session:
        actions = [entry.action for entry in session.scalars(select(AuditEntry))]
        assert "account_invite" in actions and "account_activate" in actions


def test_an_expired_link_is_refused(app: Flask, mailbox: Mailbox) -> None:
    admin = _admin(app)
    _invite(admin, "olaf@example.org")
    link = _link(_mails(app, mailbox, "olaf@example.org")[0])
    with get_db(app).session() as session:
        session.execute(update(StaffActivation).values(expires_at=utcnow() - timedelta(minutes=1)))
    client = app.test_client()
    client.get(link)
    page = client.get("/de/staff/activate")
    assert page.status_code == 410 and "gilt nicht mehr" in page.get_data(as_text=True)


def test_a_weak_password_is_refused_and_nothing_is_stored(app: Flask, mailbox: Mailbox) -> None:
    admin = _admin(app)
    _invite(admin, "paula@example.org")
    link = _link(_mails(app, mailbox, "paula@example.org")[0])
    _secret, answer = _activate(app.test_client(), link, password="password1234")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "<title>Fehler:" in page and "zu leicht" in page
    with get_db(app).session() as session:
        user = session.scalars(
            select(StaffUser).where(StaffUser.email == "paula@example.org")
        ).one()
        assert user.password_hash == "" and not user.totp_enabled


def test_a_reset_factor_ends_sessions_and_must_be_set_up_again(
    app: Flask, mailbox: Mailbox
) -> None:
    secret = make_staff(app, "quirin@example.org", "verl")
    colleague = app.test_client()
    sign_in(colleague, "quirin@example.org", secret)
    admin = _admin(app)
    staff_id = _account_id(app, "quirin@example.org")
    assert _post(admin, f"/de/staff/accounts/{staff_id}/reset-factor").status_code == 302
    assert colleague.get("/de/staff/").headers["Location"].endswith("/de/staff/signin")
    # The password alone does not sign in: the factor is never silently skipped.
    refused = post_form(
        app.test_client(), "/de/staff/signin", {"email": "quirin@example.org", "password": PASSWORD}
    )
    assert "noch kein zweiter Faktor" in refused.get_data(as_text=True)
    [mail] = _mails(app, mailbox, "quirin@example.org")
    assert "zweiten Faktor neu ein" in mail
    new_secret, answer = _activate(app.test_client(), _link(mail), password=None)
    assert answer.status_code == 200 and new_secret != secret
    assert "zweite Faktor" in _mails(app, mailbox, "quirin@example.org")[1]
    sign_in(app.test_client(), "quirin@example.org", new_secret, ahead=1)


def test_a_reset_password_needs_a_new_one_from_the_link(app: Flask, mailbox: Mailbox) -> None:
    secret = make_staff(app, "rita@example.org", "verl")
    admin = _admin(app)
    staff_id = _account_id(app, "rita@example.org")
    _post(admin, f"/de/staff/accounts/{staff_id}/reset-password")
    old = post_form(
        app.test_client(), "/de/staff/signin", {"email": "rita@example.org", "password": PASSWORD}
    )
    assert "Die Anmeldung hat nicht geklappt" in old.get_data(as_text=True)
    _new_secret, answer = _activate(
        app.test_client(), _link(_mails(app, mailbox, "rita@example.org")[0])
    )
    assert answer.status_code == 302
    sign_in(app.test_client(), "rita@example.org", secret, password=NEW_PASSWORD)


def test_a_password_reset_then_a_factor_reset_asks_for_both_in_the_last_link(
    app: Flask, mailbox: Mailbox
) -> None:
    make_staff(app, "rosa@example.org", "verl")
    admin = _admin(app)
    staff_id = _account_id(app, "rosa@example.org")
    _post(admin, f"/de/staff/accounts/{staff_id}/reset-password")
    _post(admin, f"/de/staff/accounts/{staff_id}/reset-factor")
    first, last = _mails(app, mailbox, "rosa@example.org")
    refused = app.test_client()
    refused.get(_link(first))
    assert refused.get("/de/staff/activate").status_code == 410  # replaced by the newer link
    new_secret, answer = _activate(app.test_client(), _link(last))
    assert answer.status_code == 200
    sign_in(app.test_client(), "rosa@example.org", new_secret, password=NEW_PASSWORD, ahead=1)


def test_each_new_link_brings_a_new_secret_for_the_factor(app: Flask, mailbox: Mailbox) -> None:
    admin = _admin(app)
    _invite(admin, "sina@example.org")
    staff_id = _account_id(app, "sina@example.org")
    first_page = app.test_client()
    first_page.get(_link(_mails(app, mailbox, "sina@example.org")[0]))
    seen = re.search(
        r'class="secret" dir="ltr">([A-Z2-7]+)<',
        first_page.get("/de/staff/activate").get_data(as_text=True),
    )
    assert seen is not None
    _post(admin, f"/de/staff/accounts/{staff_id}/resend")
    new_secret, answer = _activate(
        app.test_client(), _link(_mails(app, mailbox, "sina@example.org")[1])
    )
    assert answer.status_code == 200 and new_secret != seen.group(1)


def test_disabling_an_account_ends_its_sessions_at_once(app: Flask) -> None:
    secret = make_staff(app, "sven@example.org", "verl")
    colleague = app.test_client()
    sign_in(colleague, "sven@example.org", secret)
    assert colleague.get("/de/staff/").status_code == 200
    admin = _admin(app)
    staff_id = _account_id(app, "sven@example.org")
    account_page = admin.get(f"/de/staff/accounts/{staff_id}").get_data(as_text=True)
    assert "Sitzung beenden" in account_page and "127.0.0.1" in account_page
    _post(admin, f"/de/staff/accounts/{staff_id}/disable")
    assert colleague.get("/de/staff/").headers["Location"].endswith("/de/staff/signin")
    assert "gesperrt" in admin.get("/de/staff/accounts").get_data(as_text=True)
    with get_db(app).session() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "account_disable")
        ).one()
        assert (
            entry.detail == "sven@example.org" and present(entry.staff).email == "admin@example.org"
        )


def test_a_recovery_code_signs_in_once_instead_of_the_app(app: Flask, mailbox: Mailbox) -> None:
    secret = make_staff(app, "tara@example.org", "verl")
    client = app.test_client()
    sign_in(client, "tara@example.org", secret)
    page = _post(client, "/de/staff/me/recovery-codes").get_data(as_text=True)
    codes = re.findall(r'<code dir="ltr">([a-z2-9]{5}-[a-z2-9]{5})</code>', page)
    assert len(codes) == 10
    assert "Wiederherstellungs-Codes" in _mails(app, mailbox, "tara@example.org")[0]
    for attempt, expected in ((codes[0].upper(), 302), (codes[0], 200)):
        other = app.test_client()
        post_form(other, "/de/staff/signin", {"email": "tara@example.org", "password": PASSWORD})
        response = post_form(other, "/de/staff/code", {"code": attempt})
        assert response.status_code == expected
    assert "schon benutzt" in response.get_data(as_text=True)
    assert "noch 9 Codes" in client.get("/de/staff/me").get_data(as_text=True)


def test_the_last_active_administrator_can_neither_be_disabled_nor_demoted(app: Flask) -> None:
    admin = _admin(app)
    own_id = _account_id(app, "admin@example.org")
    refused = _post(admin, f"/de/staff/accounts/{own_id}/disable")
    assert refused.status_code == 409
    assert "keine aktive Administration" in refused.get_data(as_text=True)
    demoted = _post(admin, f"/de/staff/accounts/{own_id}/role", {"role": "coordinator"})
    assert demoted.status_code == 409
    with get_db(app).session() as session:
        user = session.get(StaffUser, own_id)
        assert user is not None and user.role == "admin" and user.active
    # An invited administrator who has not set up the account yet does not count.
    _invite(admin, "invited-admin@example.org", role="admin", town="")
    assert _post(admin, f"/de/staff/accounts/{own_id}/disable").status_code == 409
    make_staff(app, "second-admin@example.org", None, role="admin")
    demoted_again = _post(admin, f"/de/staff/accounts/{own_id}/role", {"role": "coordinator"})
    assert demoted_again.status_code == 302
    assert admin.get("/de/staff/accounts").status_code == 403
    assert demoted_again.headers["Location"].endswith("/de/staff/me")


def test_a_caseworker_needs_a_town_and_an_address_is_invited_once(app: Flask) -> None:
    admin = _admin(app)
    page = _invite(admin, "uwe@example.org", town="")
    assert page.status_code == 400
    assert "Bitte wählen Sie mindestens einen Ort" in page.get_data(as_text=True)
    assert _invite(admin, "uwe@example.org").status_code == 302
    again = _invite(admin, "UWE@example.org")
    assert again.status_code == 400 and "schon ein Konto" in again.get_data(as_text=True)


def test_own_password_change_needs_the_current_one_and_is_mailed(
    app: Flask, mailbox: Mailbox
) -> None:
    secret = make_staff(app, "vera@example.org", None, role="editor")
    client = app.test_client()
    response = sign_in(client, "vera@example.org", secret)
    # an editor lands on the first section her role opens: Angebote
    assert response.headers["Location"].endswith("/de/staff/catalogue/")
    form = {"current": "not my password", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    wrong = _post(client, "/de/staff/me/password", form)
    assert wrong.status_code == 400 and "stimmt nicht" in wrong.get_data(as_text=True)
    assert _mails(app, mailbox, "vera@example.org") == []
    form["current"] = PASSWORD
    assert _post(client, "/de/staff/me/password", form).status_code == 302
    [notice] = _mails(app, mailbox, "vera@example.org")
    assert "Passwort" in notice and "Wenn Sie das nicht waren" in notice
    assert client.get("/de/staff/me").status_code == 200  # this session goes on
    sign_in(app.test_client(), "vera@example.org", secret, NEW_PASSWORD, ahead=1)


def test_an_administrator_lands_on_the_accounts_and_ends_a_colleagues_session(app: Flask) -> None:
    secret = make_staff(app, "admin@example.org", None, role="admin")
    admin = app.test_client()
    assert (
        sign_in(admin, "admin@example.org", secret)
        .headers["Location"]
        .endswith("/de/staff/accounts")
    )
    colleague_secret = make_staff(app, "willi@example.org", "verl")
    colleague = app.test_client()
    sign_in(colleague, "willi@example.org", colleague_secret)
    staff_id = _account_id(app, "willi@example.org")
    page = admin.get(f"/de/staff/accounts/{staff_id}").get_data(as_text=True)
    session_id = re.search(rf"/accounts/{staff_id}/sessions/(\d+)/end", page).group(1)  # type: ignore[union-attr]
    _post(admin, f"/de/staff/accounts/{staff_id}/sessions/{session_id}/end")
    assert colleague.get("/de/staff/").headers["Location"].endswith("/de/staff/signin")


def test_demo_load_adds_a_signed_up_demo_administrator(app_config: dict[str, object]) -> None:
    from portal import create_app

    demo = create_app({**app_config, "debug": True})
    result = demo.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "demo-admin@example.org" in result.output
    secret = re.search(
        r"TOTP secret (\S+) \(or: flask --app portal staff totp-code --email demo-admin",
        result.output,
    )
    assert secret
    response = sign_in(
        demo.test_client(), "demo-admin@example.org", secret.group(1), "demo-portal-verl-shs-2026"
    )
    assert response.headers["Location"].endswith("/de/staff/accounts")
    get_db(demo).engine.dispose()  # this second app's connections close with the test


def test_two_tabs_cannot_both_use_one_link(app: Flask) -> None:
    with get_db(app).session() as session:
        token = accounts.invite(session, "xaver@example.org", "coordinator", None).token
    with get_db(app).session() as session:
        stale = accounts.open_activation(session, token)
        # The other tab completes the link between this tab's reading and its saving.
        session.execute(update(StaffActivation).values(used_at=utcnow()))
        code = pyotp.TOTP(stale.staff.totp_secret or "").now()
        with pytest.raises(ActivationInvalid):
            accounts.complete_activation(session, stale, NEW_PASSWORD, code)
        session.rollback()
    with get_db(app).session() as session:
        user = session.scalars(
            select(StaffUser).where(StaffUser.email == "xaver@example.org")
        ).one()
        assert user.password_hash == "" and not staff.password_matches(user, NEW_PASSWORD)


def test_a_locked_out_administrator_is_reset_from_the_command_line(app: Flask) -> None:
    make_staff(app, "yara@example.org", None, role="admin")
    result = app.test_cli_runner().invoke(args=["staff", "reset", "--email", "yara@example.org"])
    assert result.exit_code == 0, result.output
    refused = post_form(
        app.test_client(), "/de/staff/signin", {"email": "yara@example.org", "password": PASSWORD}
    )
    assert "Die Anmeldung hat nicht geklappt" in refused.get_data(as_text=True)
    new_secret, answer = _activate(app.test_client(), _link(result.output))
    assert answer.status_code == 200
    response = sign_in(app.test_client(), "yara@example.org", new_secret, NEW_PASSWORD, ahead=1)
    assert response.headers["Location"].endswith("/de/staff/accounts")
    unknown = app.test_cli_runner().invoke(args=["staff", "reset", "--email", "nobody@example.org"])
    assert unknown.exit_code != 0
