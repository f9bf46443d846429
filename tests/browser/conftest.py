"""A live portal on loopback and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from werkzeug.serving import make_server

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


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The portal served on a free loopback port in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join()


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
