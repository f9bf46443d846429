"""axe-core and the Nu Html Checker on the figures page, with charts and with an error, in
German and Arabic (right to left), on a phone-sized screen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from sqlalchemy import select

from portal.db import get_db
from portal.models import HelpRequest, utcnow
from portal.services import staff
from tests.booking_support import seed_schedule
from tests.browser.conftest import new_context
from tests.browser.test_every_page_is_accessible import (
    OFFICE,
    PASSWORD,
    Auditor,
    vnu_errors,
    walk_staff,
    worked_and_fresh_request,
)

pytestmark = pytest.mark.browser


def test_the_figures_page_passes_axe_and_the_html_checker_in_german_and_arabic(
    app: Flask, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    seed_schedule(app)
    worked_and_fresh_request(app)
    with get_db(app).session() as session:  # one request from last month: a period to choose
        first = session.scalars(select(HelpRequest).order_by(HelpRequest.id)).first()
        assert first is not None
        first.received_at -= timedelta(days=40)
        session.commit()
    with get_db(app).session() as session:
        user = staff.create_staff(session, "coord@example.org", PASSWORD, "coordinator", None)
        secret = user.totp_secret or ""
    context, foreign = new_context(browser, viewport={"width": 375, "height": 800})
    auditor = Auditor(context.new_page(), tmp_path)
    page = auditor.page
    walk_staff(auditor, live_server, "de", "coord@example.org", secret)
    month = utcnow().strftime("%Y-%m")
    month_before = (utcnow().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    for lang in ("de", "ar"):
        page.goto(f"{live_server}/{lang}/staff/")
        page.locator("nav.staff-nav a[href$='/staff/figures']").click()
        page.wait_for_load_state()
        auditor.check(f"{lang}-figures")
        assert page.locator("svg[role=img]").count() == 7
        assert OFFICE not in page.content()
        page.goto(f"{live_server}/{lang}/staff/figures?first={month}&last={month_before}")
        auditor.check(f"{lang}-figures-error", page.content())
        assert page.locator(".error-summary a[href='#last']").count() == 1
    context.close()
    assert auditor.count == 3 + 2 * 2
    assert not auditor.violations, "\n".join(f"{k}: {v}" for k, v in auditor.violations.items())
    assert foreign == []
    assert vnu_errors(tmp_path) == []
