"""A caseworker may work for several towns: the inbox, the request pages and the accounts
pages follow the towns an administrator gives the account."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import get_db
from portal.models import AuditEntry, StaffUser
from portal.services import accounts, staff, towns
from portal.services.errors import TownNeeded
from tests.conftest import csrf_token
from tests.integration.test_accounts import _account_id, _admin, _invite
from tests.integration.test_staff import PASSWORD, sign_in
from tests.integration.test_triage import _reference


def _caseworker_of(app: Flask, email: str, slugs: list[str]) -> FlaskClient:
    with get_db(app).session() as session:
        chosen = [towns.town_by_slug(session, slug) for slug in slugs]
        user = staff.create_staff(session, email, PASSWORD, "caseworker", chosen)  # type: ignore[arg-type]
        secret = user.totp_secret or ""
    client = app.test_client()
    sign_in(client, email, secret)
    return client


def _role(admin: FlaskClient, app: Flask, email: str, role: str, slugs: list[str]) -> object:
    """Send the account page's form "Rolle und Orte" as the administrator."""
    url = f"/de/staff/accounts/{_account_id(app, email)}"
    return admin.post(
        f"{url}/role", data={"role": role, "towns": slugs, "csrf_token": csrf_token(admin, url)}
    )


def test_a_caseworker_of_two_towns_works_on_both_until_one_is_taken_away(app: Flask) -> None:
    in_verl = _reference(app.test_client(), town="verl")
    in_shs = _reference(app.test_client(), town="shs")
    carla = _caseworker_of(app, "carla@example.org", ["verl", "shs"])
    inbox = carla.get("/de/staff/").get_data(as_text=True)
    assert in_verl in inbox and in_shs in inbox
    assert carla.get(f"/de/staff/requests/{in_verl}").status_code == 200
    assert carla.get(f"/de/staff/requests/{in_shs}").status_code == 200
    me = carla.get("/de/staff/me").get_data(as_text=True)
    assert "Verl, Schloß Holte-Stukenbrock" in me

    admin = _admin(app)
    account_url = f"/de/staff/accounts/{_account_id(app, 'carla@example.org')}"
    page = admin.get(account_url).get_data(as_text=True)
    assert "Verl, Schloß Holte-Stukenbrock" in page
    assert len(re.findall(r'<input checked[^>]* name="towns" type="checkbox"', page)) == 2
    answer = _role(admin, app, "carla@example.org", "caseworker", ["verl"])
    assert answer.status_code == 302  # type: ignore[attr-defined]

    inbox = carla.get("/de/staff/").get_data(as_text=True)
    assert in_verl in inbox and in_shs not in inbox
    assert carla.get(f"/de/staff/requests/{in_verl}").status_code == 200
    assert carla.get(f"/de/staff/requests/{in_shs}").status_code == 404
    with get_db(app).readers() as session:
        details = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "account_role")
        ).all()
    assert details == ["carla@example.org: caseworker verl"]


def test_the_account_page_refuses_a_caseworker_without_a_town(app: Flask) -> None:
    _caseworker_of(app, "dora@example.org", ["shs"])
    admin = _admin(app)
    refused = _role(admin, app, "dora@example.org", "caseworker", [])
    html = refused.get_data(as_text=True)  # type: ignore[attr-defined]
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "<title>Fehler:" in html and "Bitte wählen Sie mindestens einen Ort" in html
    with get_db(app).readers() as session:
        dora = session.scalars(select(StaffUser).where(StaffUser.email == "dora@example.org")).one()
        assert [town.slug for town in dora.towns] == ["shs"]


def test_a_coordinator_has_no_towns_and_a_caseworker_needs_one_in_the_service(
    app: Flask,
) -> None:
    _caseworker_of(app, "emil@example.org", ["verl", "shs"])
    admin = _admin(app)
    answer = _role(admin, app, "emil@example.org", "coordinator", ["verl"])
    assert answer.status_code == 302  # type: ignore[attr-defined]
    with get_db(app).session() as session:
        emil = session.scalars(select(StaffUser).where(StaffUser.email == "emil@example.org")).one()
        assert emil.role == "coordinator" and emil.towns == []
        with pytest.raises(TownNeeded):
            accounts.change_role(session, emil, "caseworker", [])
        with pytest.raises(TownNeeded):
            accounts.invite(session, "fritz@example.org", "caseworker", None)


def test_an_invitation_gives_two_towns(app: Flask) -> None:
    admin = _admin(app)
    form = admin.get("/de/staff/accounts").get_data(as_text=True)
    assert "<legend>Orte (nur für Sachbearbeitung)</legend>" in form
    assert _invite(admin, "gerda@example.org", town=["shs", "verl"]).status_code == 302
    listing = admin.get("/de/staff/accounts").get_data(as_text=True)
    assert "Verl, Schloß Holte-Stukenbrock" in listing
    with get_db(app).readers() as session:
        gerda = session.scalars(
            select(StaffUser).where(StaffUser.email == "gerda@example.org")
        ).one()
        assert [town.slug for town in gerda.towns] == ["verl", "shs"]


def test_the_staff_create_command_takes_several_towns(app: Flask) -> None:
    runner = app.test_cli_runner()
    args = ["staff", "create", "--email", "hugo@example.org", "--town", "verl", "--town", "shs"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    without = runner.invoke(args=["staff", "create", "--email", "ina@example.org"])
    assert without.exit_code != 0 and "needs --town" in without.output
    with get_db(app).readers() as session:
        hugo = session.scalars(select(StaffUser).where(StaffUser.email == "hugo@example.org")).one()
        assert {town.slug for town in hugo.towns} == {"verl", "shs"}
