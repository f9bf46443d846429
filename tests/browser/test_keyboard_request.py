"""A whole help request by keyboard alone, without JavaScript, on a phone-sized screen."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import select

from portal.db import get_db
from portal.models import HelpRequest
from tests.browser.conftest import ForeignRequests
from tests.expect import match_in

pytestmark = pytest.mark.browser


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    target = page.locator(selector).first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"could not reach {selector} with the Tab key")


def choose(page: Page, name: str, value: str) -> None:
    """Pick an option as a keyboard user does.

    A radio group is one tab stop: Tab into it, then the arrow keys move the choice. Each
    checkbox is its own tab stop, ticked with Space.
    """
    target = page.locator(f'input[name="{name}"][value="{value}"]')
    if target.get_attribute("type") == "checkbox":
        tab_to(page, f'input[name="{name}"][value="{value}"]')
        page.keyboard.press("Space")
        return
    checked = page.locator(f'input[name="{name}"]:checked')
    tab_to(page, f'input[name="{name}"]:checked' if checked.count() else f'input[name="{name}"]')
    page.keyboard.press("Space")
    for _ in range(12):
        if target.is_checked():
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"could not choose {name}={value} with the arrow keys")


def fill(page: Page, name: str, text: str) -> None:
    """Tab to a text field and type."""
    tab_to(page, f'[name="{name}"]')
    page.keyboard.type(text)


def go_on(page: Page) -> None:
    """Tab to the form's submit button and press Enter."""
    tab_to(page, 'main form button[type="submit"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_a_relative_asks_for_help_by_keyboard_alone(
    app: Flask, live_server: str, phone_page: tuple[Page, ForeignRequests], lang: str
) -> None:
    page, foreign = phone_page
    page.goto(f"{live_server}/{lang}/request/")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    go_on(page)
    choose(page, "who", "other")
    go_on(page)
    fill(page, "subject_name", "Fatma Demir")
    choose(page, "relationship", "child")
    choose(page, "authority", "consent")
    go_on(page)
    choose(page, "town", "shs")
    go_on(page)
    choose(page, "topics", "care")
    choose(page, "topics", "transport")
    go_on(page)
    fill(page, "need", "Meine Mutter braucht Hilfe beim Einkaufen.")
    go_on(page)
    choose(page, "urgency", "soon")
    go_on(page)
    choose(page, "contact_method", "callback")
    go_on(page)
    choose(page, "contact_days", "tue")
    go_on(page)
    tab_to(page, 'select[name="language"]')
    page.keyboard.type("T")  # picks the first language starting with T in the German list
    choose(page, "interpreter", "no")
    go_on(page)
    go_on(page)  # accessibility is optional
    fill(page, "name", "Elif Demir")
    fill(page, "phone", "05207 123456")
    go_on(page)
    assert "/request/check" in page.url
    # Change one answer through its change link, by keyboard.
    tab_to(page, 'a[href*="/request/urgency?change=1"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    choose(page, "urgency", "urgent")
    go_on(page)
    assert "/request/check" in page.url
    tab_to(page, 'input[name="consent"]')
    page.keyboard.press("Space")
    go_on(page)
    assert page.url.endswith(f"/{lang}/request/done")
    reference = match_in(r"SD-\d{4}-\d{5}", page.inner_text("main")).group(0)
    with get_db(app).session() as session:
        stored = session.scalars(select(HelpRequest)).one()
    assert stored.reference == reference
    assert stored.urgency == "urgent" and stored.town.slug == "shs" and stored.locale == lang
    assert sorted(stored.topics) == ["care", "transport"]
    assert foreign == []
