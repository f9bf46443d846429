"""A live portal on loopback and Debian's Chromium driven by Playwright; the page audit's
record of the endpoints it visited, held to tests/page_inventory.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.serving import make_server

from tests.page_inventory import AUDITED

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.*, EXCLUDE ::1",
]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The live server's links point at itself."""
    return app_config


# The URL map of each live server, by its address: an audited page's URL names its endpoint.
SERVED: dict[str, Map] = {}
# The endpoints whose pages the running test module has audited.
AUDITED_HERE: set[str] = set()
# The browser tests that ran and passed, and the test modules of which only a part was selected.
PASSED: set[str] = set()
PARTLY_SELECTED: set[Path] = set()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The portal served on a free loopback port in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    SERVED[base] = app.url_map
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join()
    del SERVED[base]


def endpoint_of(url: str, method: str) -> str | None:
    """The endpoint that answered ``method`` on ``url`` of a live server; None for a page of no
    route (404) or of no live server."""
    parts = urlsplit(url)
    url_map = SERVED.get(f"{parts.scheme}://{parts.netloc}")
    if url_map is None:
        return None
    try:
        endpoint, _arguments = url_map.bind("").match(parts.path, method=method)
    except HTTPException:
        return None
    return str(endpoint)


def record_audit(url: str, method: str) -> None:
    """Note that the page that ``method`` on ``url`` answered with was audited, for the
    inventory check of this module."""
    endpoint = endpoint_of(url, method)
    if endpoint is not None:
        AUDITED_HERE.add(endpoint)


def pytest_deselected(items: list[pytest.Item]) -> None:
    PARTLY_SELECTED.update(item.path for item in items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """A module named with ``::`` on the command line runs only the tests named."""
    config = session.config
    for argument in config.args:
        if "::" in argument:
            named = Path(argument.split("::", 1)[0])
            PARTLY_SELECTED.add((config.invocation_params.dir / named).resolve())


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        PASSED.add(report.nodeid)


def _ran_whole(module: pytest.Module) -> bool:
    """Whether every test of ``module`` was selected, ran and passed."""
    if module.path in PARTLY_SELECTED:
        return False
    items = [item for item in module.session.items if item.path == module.path]
    return all(item.nodeid in PASSED for item in items)


@pytest.fixture(scope="module", autouse=True)
def audit_inventory(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test module of the page audit ran whole and passed, every endpoint that
    tests/page_inventory.py credits to it must have been audited; the missing ones fail the
    module's last test (at teardown), by name."""
    AUDITED_HERE.clear()
    yield
    module = request.node
    assert isinstance(module, pytest.Module)
    credited = {endpoint for endpoint, audit in AUDITED.items() if audit == module.path.stem}
    missing = sorted(credited - AUDITED_HERE)
    if missing and _ran_whole(module):
        pytest.fail(
            f"{module.path.name} audited no page of {', '.join(missing)}, which "
            "tests/page_inventory.py lists in AUDITED as audited by it",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


class ForeignRequests(list[str]):
    """Every request a page tried to make to a host other than loopback."""


def _guard(foreign: ForeignRequests) -> Any:
    def handler(route: Route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "about:")):
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    return handler


def new_context(browser: Browser, **options: Any) -> tuple[BrowserContext, ForeignRequests]:
    """A context that refuses, and records, any request off this machine."""
    context = browser.new_context(**options)
    foreign = ForeignRequests()
    context.route("**/*", _guard(foreign))
    return context, foreign


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[tuple[Page, ForeignRequests]]:
    """A phone-sized page without JavaScript, as on an old phone."""
    context, foreign = new_context(
        browser, viewport={"width": 360, "height": 740}, java_script_enabled=False
    )
    yield context.new_page(), foreign
    context.close()


def sign_in_staff(
    page: Page, base: str, email: str, password: str, secret: str, lang: str = "de"
) -> None:
    """Sign in through both steps of the staff sign-in: password, then the one-time code."""
    page.goto(f"{base}/{lang}/staff/signin")
    page.fill("[name=email]", email)
    page.fill("[name=password]", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    page.fill("[name=code]", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
