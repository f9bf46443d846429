"""A resident finds help in her own language in a few steps, by keyboard, without JavaScript."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page

from portal.cli import DEMO_CATALOGUE
from tests.browser.conftest import ForeignRequests
from tests.browser.test_keyboard_request import tab_to
from tests.catalogue_data import load

pytestmark = pytest.mark.browser


def test_turkish_resident_finds_home_care_in_three_steps(
    app: Flask, live_server: str, phone_page: tuple[Page, ForeignRequests]
) -> None:
    import json

    load(app, json.loads(DEMO_CATALOGUE.read_text("utf-8")))
    page, foreign = phone_page
    page.goto(f"{live_server}/tr/")

    tab_to(page, 'main a[href="/tr/catalogue/"]')  # step 1: "find help yourself"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "input[name=q]")  # step 2: search in Turkish
    page.keyboard.type("bakım")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h2#results-title").inner_text().split()[0] != "0"
    first = page.locator("ol.results h3 a").first
    assert "bakım" in page.locator("ol.results").inner_text().lower()

    first.focus()  # step 3: open the first offer
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "tr"
    assert "bakım" in page.locator("main").inner_text().lower()
    assert page.locator(".ask .button").is_visible()
    assert foreign == []
