"""The authorisation matrix, generated from the URL map: every staff route × every role ×
own town and other town. A new staff route without a rule fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import get_db
from portal.models import HelpRequest
from portal.services import access, towns
from tests.conftest import csrf_token
from tests.integration.test_staff import _submitted_reference, make_staff, sign_in

# The only staff routes open before sign-in: the sign-in steps and the activation link.
OPEN_ROUTES = {
    "staff.signin",
    "staff.code",
    "staff.signout",
    "staff.activate_link",
    "staff.activate",
}
ROLES = {
    "caseworker-shs": ("caseworker", "shs"),
    "caseworker-verl": ("caseworker", "verl"),
    "coordinator": ("coordinator", None),
    "editor": ("editor", None),
    "admin": ("admin", None),
}


def staff_rules(app: Flask) -> list[Any]:
    """Every rule of the staff blueprint."""
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("staff.")]


def test_every_staff_route_declares_who_may_use_it(app: Flask) -> None:
    for rule in staff_rules(app):
        if rule.endpoint in OPEN_ROUTES:
            continue
        permission = getattr(app.view_functions[rule.endpoint], "permission", None)
        assert permission in access.PERMISSIONS, f"{rule.endpoint} has no permission rule"


def _url(rule: Any, reference: str) -> str:
    values = {"lang": "de", "reference": reference, "action": "take", "kind": "service"}
    values.update({name: 999999 for name in rule.arguments if name.endswith("_id")})
    with_args = rule.rule
    for name, value in values.items():
        with_args = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), with_args)
    return with_args


def _token(client: FlaskClient) -> str:
    html = client.get("/de/staff/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _expected(role: str, town: str | None, permission: str, arguments: set[str]) -> set[int]:
    roles_holding = access.PERMISSIONS[permission]
    if role not in roles_holding:
        return {403}
    if "reference" in arguments and role == "caseworker" and town != "shs":
        return {404}
    # A made-up record id (a booking, a referral, a received email) is not found, or the
    # step says it is not possible; the route itself is open.
    if any(name.endswith("_id") for name in arguments):
        return {302, 404}
    return {200, 302, 400}


def _walk(app: Flask, name: str, reference: str) -> list[str]:
    role, town = ROLES[name]
    secret = make_staff(app, f"{name}@example.org", town, role=role)
    client = app.test_client()
    sign_in(client, f"{name}@example.org", secret)
    token = _token(client)
    problems = []
    for rule in staff_rules(app):
        if rule.endpoint in OPEN_ROUTES:
            continue
        permission = getattr(app.view_functions[rule.endpoint], "permission")
        expected = _expected(role, town, permission, set(rule.arguments))
        url = _url(rule, reference)
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                status = client.get(url).status_code
            else:
                status = client.post(url, data={"csrf_token": token}).status_code
            if status not in expected:
                problems.append(f"{name} {method} {url}: {status}, expected {sorted(expected)}")
    return problems


@pytest.mark.parametrize("name", ["caseworker-verl", "editor", "admin"])
def test_who_may_not_read_a_request_can_neither_read_change_nor_list_it(
    app: Flask, client: FlaskClient, name: str
) -> None:
    reference = _submitted_reference(client, "shs")
    with get_db(app).session() as session:
        before = session.scalars(select(HelpRequest)).one()
        state = (before.status, before.urgency, before.assignee_id, len(before.events))
    assert _walk(app, name, reference) == []
    with get_db(app).session() as session:
        after = session.scalars(select(HelpRequest)).one()
        assert (after.status, after.urgency, after.assignee_id, len(after.events)) == state


@pytest.mark.parametrize("name", ["caseworker-shs", "coordinator"])
def test_who_may_read_a_request_reaches_every_step(
    app: Flask, client: FlaskClient, name: str
) -> None:
    reference = _submitted_reference(client, "shs")
    assert _walk(app, name, reference) == []


def test_a_caseworker_of_the_other_town_never_sees_the_request_in_lists(
    app: Flask, client: FlaskClient
) -> None:
    reference = _submitted_reference(client, "shs")
    secret = make_staff(app, "verl@example.org", "verl")
    staff_client = app.test_client()
    sign_in(staff_client, "verl@example.org", secret)
    for url in ("/de/staff/", "/de/staff/?status=received", "/de/staff/?town=shs"):
        assert reference not in staff_client.get(url).get_data(as_text=True)
    assert staff_client.get(f"/de/staff/requests/{reference}/confirm/take").status_code == 404


@pytest.mark.parametrize("name", sorted(ROLES))
def test_only_an_administrator_opens_or_changes_a_real_town(app: Flask, name: str) -> None:
    role, town = ROLES[name]
    secret = make_staff(app, f"{name}@example.org", town, role=role)
    client = app.test_client()
    with get_db(app).session() as session:
        verl = towns.town_by_slug(session, "verl")
        assert verl is not None
        town_id, inbox = verl.id, verl.inbox_email
        location_id = towns.town_locations(session, verl)[0].id
    urls = [
        "/de/staff/towns",
        "/de/staff/towns/new",
        f"/de/staff/towns/{town_id}",
        f"/de/staff/towns/{town_id}/locations/new",
        f"/de/staff/towns/{town_id}/locations/{location_id}",
    ]
    for url in urls:  # signed out: to the sign-in page
        assert client.get(url).headers["Location"].endswith("/de/staff/signin")
    sign_in(client, f"{name}@example.org", secret)
    token = _token(client)
    allowed = role in access.PERMISSIONS["towns"]
    for url in urls:
        assert client.get(url).status_code == (200 if allowed else 403), url
    response = client.post(
        f"/de/staff/towns/{town_id}", data={"csrf_token": token, "inbox_email": "x@example.org"}
    )
    assert response.status_code == (400 if allowed else 403)
    with get_db(app).session() as session:
        verl = towns.town_by_slug(session, "verl")
        assert verl is not None and verl.inbox_email == inbox


def test_the_consultation_hours_are_for_coordinators_and_administrators_only(
    app: Flask, client: FlaskClient
) -> None:
    """The walks above cover each hours route for each role; signed out, each asks to sign in."""
    hours_rules = [rule for rule in staff_rules(app) if "/hours" in rule.rule]
    assert len(hours_rules) == 8
    assert {getattr(app.view_functions[rule.endpoint], "permission") for rule in hours_rules} == {
        "hours"
    }
    assert access.PERMISSIONS["hours"] == frozenset({"coordinator", "admin"})
    token = csrf_token(client, "/de/staff/signin")
    for rule in hours_rules:
        url = _url(rule, "SD-2026-00001")
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].endswith("/de/staff/signin")


FIGURES_URLS = ("/de/staff/figures", "/de/staff/figures.csv")


@pytest.mark.parametrize("name", sorted(ROLES))
def test_only_coordinators_and_administrators_see_the_figures(app: Flask, name: str) -> None:
    role, town = ROLES[name]
    secret = make_staff(app, f"{name}@example.org", town, role=role)
    client = app.test_client()
    sign_in(client, f"{name}@example.org", secret)
    expected = 200 if role in ("coordinator", "admin") else 403
    assert [client.get(url).status_code for url in FIGURES_URLS] == [expected, expected]
    navigation = client.get("/de/staff/").get_data(as_text=True)
    assert ('href="/de/staff/figures"' in navigation) == (expected == 200)


def test_the_figures_send_the_signed_out_to_the_sign_in(client: FlaskClient) -> None:
    for url in FIGURES_URLS:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith(
            "/de/staff/signin"
        )


def _catalogue_urls() -> list[tuple[str, str]]:
    from tests.catalogue_data import CARE

    base = "/de/staff/catalogue"
    return [
        ("GET", f"{base}/"),
        ("GET", f"{base}/history"),
        ("GET", f"{base}/translations"),
        ("GET", f"{base}/service/new"),
        ("GET", f"{base}/organization/new"),
        ("GET", f"{base}/location/new"),
        ("GET", f"{base}/service/{CARE}/edit"),
        ("GET", f"{base}/service/{CARE}/history"),
        ("POST", f"{base}/service/{CARE}/edit"),
        ("POST", f"{base}/service/new"),
        ("POST", f"{base}/service/{CARE}/publish"),
        ("POST", f"{base}/service/{CARE}/discard"),
    ]


@pytest.mark.parametrize("name", sorted(ROLES))
def test_only_catalogue_editors_open_the_catalogue_editor(app: Flask, name: str) -> None:
    from tests import catalogue_data

    catalogue_data.load(app)
    role, town = ROLES[name]
    secret = make_staff(app, f"{name}@example.org", town, role=role)
    client = app.test_client()
    sign_in(client, f"{name}@example.org", secret)
    token = _token(client)
    allowed = role in access.PERMISSIONS["catalogue"]
    for method, url in _catalogue_urls():
        if method == "GET":
            status = client.get(url).status_code
        else:
            status = client.post(url, data={"csrf_token": token}).status_code
        # With only a token, an edit is refused as incomplete (200) and there is no draft to
        # publish or discard (404): the route itself is open.
        assert status in ({200, 302, 404} if allowed else {403}), (name, method, url, status)
    navigation = client.get("/de/staff/").get_data(as_text=True)
    assert ('href="/de/staff/catalogue/"' in navigation) == allowed


def test_signed_out_visitors_are_sent_to_sign_in_from_the_catalogue_editor(
    app: Flask, client: FlaskClient
) -> None:
    for method, url in _catalogue_urls():
        response = client.get(url) if method == "GET" else client.post(url)
        # A POST without a session has no valid token either: refused before anything else.
        assert response.status_code == (302 if method == "GET" else 400), (method, url)
        if method == "GET":
            assert response.headers["Location"].endswith("/de/staff/signin")
