"""axe-core and the Nu Html Checker on the receipt and its check, in German, Arabic (right to
left) and Leichte Sprache, on a phone-sized screen; the receipt prints on one A4 sheet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser

from tests.booking_support import confirm, seed_schedule, walk_booking
from tests.browser.conftest import new_context
from tests.browser.test_every_page_is_accessible import Auditor, vnu_errors
from tests.conftest import answer_all, submit

pytestmark = pytest.mark.browser


def test_the_receipt_and_its_check_pass_axe_and_the_html_checker_and_print_on_one_page(
    app: Flask, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    seed_schedule(app)
    problems: dict[str, list[str]] = {}
    for lang in ("de", "ar", "ls"):
        resident = app.test_client()
        answer_all(resident, lang)
        assert submit(resident, lang).status_code == 302
        # Booking in Leichte Sprache stops at its confirmation email (the mail's
        # force_locale("ls") is the Leichte Sprache part's to mend), so not here yet.
        booking = lang != "ls"
        if booking:
            walk_booking(resident, lang)
            assert confirm(resident, lang).status_code == 302
        cookie = resident.get_cookie("portal")
        assert cookie is not None
        context, foreign = new_context(browser, viewport={"width": 375, "height": 800})
        context.add_cookies([{"name": "portal", "value": cookie.value, "url": live_server}])
        auditor = Auditor(context.new_page(), tmp_path)
        page = auditor.page
        page.goto(f"{live_server}/{lang}/request/done")
        page.click("a[href$='/request/done/receipt']")
        auditor.check(f"{lang}-receipt")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        pdf = page.pdf(prefer_css_page_size=True)
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the receipt needs one A4 sheet"
        code = page.inner_text(".receipt-code .code")
        if booking:
            page.goto(f"{live_server}/{lang}/booking/done")
            page.click("a[href$='/booking/done/receipt']")
            auditor.check(f"{lang}-booking-receipt")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            pdf = page.pdf(prefer_css_page_size=True)
            assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "one A4 sheet"
        page.goto(f"{live_server}/{lang}/receipt/verify/{code}")
        auditor.check(f"{lang}-verify-known")
        page.goto(f"{live_server}/{lang}/receipt/verify")
        auditor.check(f"{lang}-verify-form")
        auditor.submit()
        auditor.check(f"{lang}-verify-errors", page.content())
        page.fill("[name=code]", "ZZZZ-ZZZZ")
        auditor.submit()
        auditor.check(f"{lang}-verify-unknown", page.content())
        problems.update(auditor.violations)
        assert list(foreign) == []
        context.close()
    assert problems == {}
    assert vnu_errors(tmp_path) == []
