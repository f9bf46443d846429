"""A daughter books a consultation for her father by keyboard alone, without JavaScript, on a
phone-sized screen; then she moves it, again by keyboard."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import select

from portal.db import get_db
from portal.models import Booking
from portal.services import slots
from tests.booking_support import seed_schedule
from tests.browser.conftest import ForeignRequests
from tests.browser.test_keyboard_request import choose, fill, go_on, tab_to
from tests.expect import match_in

pytestmark = pytest.mark.browser


def press_link(page: Page, selector: str) -> None:
    """Tab to a link and follow it with Enter."""
    tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_a_daughter_books_for_her_father_by_keyboard_alone(
    app: Flask, live_server: str, phone_page: tuple[Page, ForeignRequests], lang: str
) -> None:
    seed_schedule(app)
    page, foreign = phone_page
    page.goto(f"{live_server}/{lang}/")
    press_link(page, 'main a[href$="/booking/"]')
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    go_on(page)
    choose(page, "who", "other")
    go_on(page)
    fill(page, "subject_name", "Karl Schmidt")
    choose(page, "relationship", "child")
    choose(page, "authority", "legal")
    go_on(page)
    choose(page, "town", "verl")
    go_on(page)
    choose(page, "location", "shs")
    go_on(page)
    first, second = page.locator('input[name="slot"]').evaluate_all(
        "inputs => inputs.slice(0, 2).map(i => i.value)"
    )
    choose(page, "slot", second)  # Tab into the group, then an arrow key to the next time
    go_on(page)
    choose(page, "topic", "benefits")
    fill(page, "note", "Er hört schlecht.")
    go_on(page)
    fill(page, "name", "Anna Schmidt")
    fill(page, "email", "anna@example.org")
    go_on(page)
    assert "/booking/check" in page.url
    tab_to(page, 'input[name="consent"]')
    page.keyboard.press("Space")
    go_on(page)
    assert page.url.endswith(f"/{lang}/booking/done")
    reference = match_in(r"SD-\d{4}-\d{5}", page.inner_text("main")).group(0)
    with get_db(app).session() as session:
        booking = session.scalars(select(Booking)).one()
        assert booking.request.reference == reference
        assert booking.slot_start == slots.parse_slot_key(second)
        assert booking.subject_name == "Karl Schmidt" and booking.authority == "legal"
        assert booking.location.code == "shs" and booking.locale == lang

    link = page.locator("a.status-link").get_attribute("href") or ""
    page.goto(link.replace("http://portal.test", live_server))
    press_link(page, 'main a[href$="/booking/manage/move"]')
    choose(page, "slot", first)
    go_on(page)
    go_on(page)  # "Yes, move it"
    assert page.url.endswith(f"/{lang}/booking/manage")
    with get_db(app).session() as session:
        active = session.scalars(select(Booking).where(Booking.status == "active")).one()
        assert active.slot_start == slots.parse_slot_key(first) and active.sequence == 1
    assert foreign == []
