"""Every route of the URL map is visited by the browser page audit or listed with a reason in
tests/page_inventory.py; a route in neither fails here, by name, without a browser. That each
audited page is in fact audited by the module named is checked when that module runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from werkzeug.routing import Rule

from portal import create_app
from tests.page_inventory import AUDITED, NOT_AUDITED, PUBLIC_PAGES

BROWSER_TESTS = Path(__file__).resolve().parents[1] / "browser"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """The portal's URL map; no page is served, so the database stays empty."""
    return create_app(
        {
            "instance_path": str(tmp_path / "instance"),
            "secret_key": "route-inventory-secret-key-0123456789abcdef",
            "testing": True,
            "database_url": f"sqlite:///{tmp_path / 'portal.sqlite'}",
            "public_url": "http://portal.test",
            "ratelimit_disabled": True,
        }
    )


def _routes(app: Flask) -> dict[str, list[Rule]]:
    """Each endpoint of the URL map and its rules."""
    routes: dict[str, list[Rule]] = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(rule.endpoint, []).append(rule)
    return routes


def _described(rules: list[Rule]) -> str:
    methods = sorted(
        {method for rule in rules for method in rule.methods or ()} - {"HEAD", "OPTIONS"}
    )
    return f"{','.join(methods)} {' '.join(rule.rule for rule in rules)}"


def test_every_route_is_audited_or_left_out_with_a_reason(app: Flask) -> None:
    routes = _routes(app)
    missing = [
        f"{endpoint} ({_described(rules)})"
        for endpoint, rules in sorted(routes.items())
        if endpoint not in AUDITED and endpoint not in NOT_AUDITED
    ]
    assert not missing, (
        "routes neither visited by the browser page audit nor listed with a reason in "
        "tests/page_inventory.py: " + ", ".join(missing)
    )


def test_the_inventory_names_only_routes_that_exist(app: Flask) -> None:
    routes = _routes(app)
    assert sorted(set(AUDITED) - set(routes)) == []
    assert sorted(set(NOT_AUDITED) - set(routes)) == []


def test_no_route_is_both_audited_and_left_out() -> None:
    assert sorted(set(AUDITED) & set(NOT_AUDITED)) == []


def test_every_reason_says_something() -> None:
    assert [endpoint for endpoint, reason in NOT_AUDITED.items() if len(reason) < 10] == []


def test_every_audit_named_is_a_browser_test() -> None:
    assert (
        sorted(
            {
                module
                for module in AUDITED.values()
                if not (BROWSER_TESTS / f"{module}.py").is_file()
            }
        )
        == []
    )


def test_the_pages_opened_by_address_are_audited_or_redirect(app: Flask) -> None:
    urls = app.url_map.bind("portal.test")
    endpoints = {
        path: urls.match(f"/de{path}", method="GET")[0]
        for path, _name in PUBLIC_PAGES
        if path != "/no-such-page"
    }
    assert {
        path: endpoint
        for path, endpoint in endpoints.items()
        if endpoint not in AUDITED and "redirects" not in NOT_AUDITED.get(endpoint, "")
    } == {}
