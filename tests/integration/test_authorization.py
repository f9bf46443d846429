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
from portal.services import access
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
    values = {"lang": "de", "reference": reference, "action": "take"}
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
        permission = app.view_functions[rule.endpoint].permission
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
