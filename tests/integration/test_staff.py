"""Staff sign in with password and one-time code and read only their own town's requests."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import get_db
from portal.models import AuditEntry, StaffSession, StaffUser
from portal.services import staff, towns
from tests.conftest import answer_all, post_form, submit
from tests.expect import match_in, present

PASSWORD = "correct horse battery staple"


def make_staff(app: Flask, email: str, town: str | None, role: str = "caseworker") -> str:
    """Create a fully set-up account (as `demo load` does) and return its TOTP secret."""
    with get_db(app).session() as session:
        user = staff.create_staff(
            session, email, PASSWORD, role, towns.town_by_slug(session, town) if town else None
        )
        return user.totp_secret or ""


def sign_in(
    client: FlaskClient, email: str, secret: str, password: str = PASSWORD, ahead: int = 0
) -> Any:
    """Password, then the one-time code (of ``ahead`` steps later: a used code is refused);
    returns the answer to the code step."""
    response = post_form(client, "/de/staff/signin", {"email": email, "password": password})
    assert response.headers["Location"].endswith("/de/staff/code"), response.get_data(as_text=True)
    totp = pyotp.TOTP(secret)
    code = totp.at(time.time() + ahead * totp.interval)
    response = post_form(client, "/de/staff/code", {"code": code})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _submitted_reference(client: FlaskClient, town: str = "shs") -> str:
    answer_all(client, overrides={"town": {"town": town}})
    submit(client)
    done = client.get("/de/request/done").get_data(as_text=True)
    return match_in(r"SD-\d{4}-\d{5}", done).group(0)


def test_staff_of_the_right_town_reads_the_request_and_the_read_is_audited(
    app: Flask, client: FlaskClient
) -> None:
    reference = _submitted_reference(client)
    secret = make_staff(app, "anna@example.org", "shs")
    staff_client = app.test_client()
    response = staff_client.get(f"/de/staff/requests/{reference}")
    assert response.headers["Location"].endswith("/de/staff/signin")
    response = sign_in(staff_client, "anna@example.org", secret)
    assert response.headers["Location"].endswith(f"/de/staff/requests/{reference}")
    page = staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    assert "GEHEIMER-TEXT" in page and "Fatma Demir" in page
    assert (
        staff_client.get(f"/de/staff/requests/{reference}").headers["Cache-Control"] == "no-store"
    )
    inbox = staff_client.get("/de/staff/").get_data(as_text=True)
    assert reference in inbox and "Fatma" not in inbox
    with get_db(app).session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["signin", "view", "view"]
        assert present(entries[1].staff).email == "anna@example.org"
        assert entries[1].reference == reference and entries[1].address == "127.0.0.1"


def test_a_caseworker_of_the_other_town_can_never_read_it(app: Flask, client: FlaskClient) -> None:
    reference = _submitted_reference(client, "shs")
    secret = make_staff(app, "bernd@example.org", "verl")
    staff_client = app.test_client()
    sign_in(staff_client, "bernd@example.org", secret)
    assert staff_client.get(f"/de/staff/requests/{reference}").status_code == 404
    assert reference not in staff_client.get("/de/staff/").get_data(as_text=True)
    with get_db(app).session() as session:
        assert [e.action for e in session.scalars(select(AuditEntry))] == ["signin"]


def test_a_coordinator_reads_both_towns(app: Flask, client: FlaskClient) -> None:
    reference = _submitted_reference(client, "verl")
    secret = make_staff(app, "chris@example.org", None, role="coordinator")
    staff_client = app.test_client()
    sign_in(staff_client, "chris@example.org", secret)
    assert staff_client.get(f"/de/staff/requests/{reference}").status_code == 200


def test_a_wrong_password_or_code_does_not_sign_in(app: Flask) -> None:
    secret = make_staff(app, "dora@example.org", "verl")
    staff_client = app.test_client()
    response = post_form(
        staff_client,
        "/de/staff/signin",
        {"email": "dora@example.org", "password": "wrong password!"},
    )
    assert "Die Anmeldung hat nicht geklappt" in response.get_data(as_text=True)
    post_form(staff_client, "/de/staff/signin", {"email": "dora@example.org", "password": PASSWORD})
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1000000:06d}"
    response = post_form(staff_client, "/de/staff/code", {"code": wrong})
    assert "stimmt nicht" in response.get_data(as_text=True)
    assert staff_client.get("/de/staff/").headers["Location"].endswith("/de/staff/signin")


def test_a_one_time_code_works_only_once(app: Flask) -> None:
    secret = make_staff(app, "emil@example.org", "verl")
    sign_in(app.test_client(), "emil@example.org", secret)
    with get_db(app).session() as session:  # the code just used, even if its 30 s are over
        used = session.scalars(select(StaffUser.last_totp_step)).one()
    totp = pyotp.TOTP(secret)
    second = app.test_client()
    post_form(second, "/de/staff/signin", {"email": "emil@example.org", "password": PASSWORD})
    response = post_form(second, "/de/staff/code", {"code": totp.at(used * totp.interval)})
    assert "schon benutzt" in response.get_data(as_text=True)


def test_sign_out_revokes_the_session_even_for_a_replayed_cookie(app: Flask) -> None:
    secret = make_staff(app, "frida@example.org", "verl")
    staff_client = app.test_client()
    sign_in(staff_client, "frida@example.org", secret)
    cookie = staff_client.get_cookie("portal")
    assert staff_client.get("/de/staff/").status_code == 200
    token = match_in(
        r'name="csrf_token" type="hidden" value="([^"]+)"',
        staff_client.get("/de/staff/").get_data(as_text=True),
    ).group(1)
    staff_client.post("/de/staff/signout", data={"csrf_token": token})
    replay = app.test_client()
    replay.set_cookie("portal", present(cookie).value)
    assert replay.get("/de/staff/").headers["Location"].endswith("/de/staff/signin")


def test_an_idle_session_expires(app: Flask) -> None:
    secret = make_staff(app, "gert@example.org", "verl")
    staff_client = app.test_client()
    sign_in(staff_client, "gert@example.org", secret)
    with get_db(app).session() as session:
        for found in session.scalars(select(StaffSession)):
            found.last_seen_at = found.last_seen_at.replace(year=found.last_seen_at.year - 1)
    assert staff_client.get("/de/staff/").headers["Location"].endswith("/de/staff/signin")


def test_staff_create_command_prints_an_activation_link_and_sets_no_password(
    app: Flask,
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["staff", "create", "--email", "ida@example.org", "--role", "admin"],
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"https?://\S+/de/staff/activate/\S+", result.output)
    again = runner.invoke(args=["staff", "create", "--email", "IDA@example.org", "--role", "admin"])
    assert again.exit_code != 0 and "exists already" in again.output
    with get_db(app).session() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.email == "ida@example.org")).one()
        assert user.role == "admin" and user.password_hash == "" and not user.totp_enabled
