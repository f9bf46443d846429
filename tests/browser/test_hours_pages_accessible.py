"""axe-core and the Nu Html Checker on the consultation-hours pages, error states included,
in German and Arabic (right to left)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from sqlalchemy import select

from portal.db import get_db
from portal.models import Booking, ConsultationClosure, ConsultationLocation, ConsultationRule
from portal.services import slots, staff
from tests.booking_support import confirm, seed_schedule, walk_booking
from tests.browser.conftest import new_context, sign_in_staff
from tests.browser.test_every_page_is_accessible import PASSWORD, Auditor, vnu_errors

pytestmark = pytest.mark.browser


def _booking_outside_the_hours(app: Flask) -> tuple[int, int]:
    """A booked appointment at Verl whose day is then closed; the location's and a rule's id."""
    resident = app.test_client()
    walk_booking(resident)
    assert confirm(resident).status_code == 302
    with get_db(app).session() as session:
        booking = session.scalars(select(Booking)).one()
        day = booking.slot_start.astimezone(slots.BERLIN).date()
        session.add(
            ConsultationClosure(
                location_id=booking.location_id, first_day=day, last_day=day, reason="Fortbildung"
            )
        )
        verl = session.scalars(
            select(ConsultationLocation).where(ConsultationLocation.code == "verl")
        ).one()
        rule_id = session.scalars(
            select(ConsultationRule.id).where(ConsultationRule.location_id == verl.id)
        ).first()
        session.commit()
        return verl.id, rule_id or 0


def test_every_consultation_hours_page_passes_axe_and_the_html_checker(
    app: Flask, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    seed_schedule(app)
    location_id, rule_id = _booking_outside_the_hours(app)
    with get_db(app).session() as session:
        user = staff.create_staff(session, "coord@example.org", PASSWORD, "coordinator", None)
        secret = user.totp_secret or ""
    context, foreign = new_context(browser, viewport={"width": 375, "height": 800})
    auditor = Auditor(context.new_page(), tmp_path)
    page = auditor.page
    sign_in_staff(page, live_server, "coord@example.org", PASSWORD, secret)
    for lang in ("de", "ar"):
        base = f"{live_server}/{lang}/staff/hours"
        page.goto(base)
        auditor.check(f"{lang}-hours")
        page.fill("[name=closure-first_day]", "2026-12-24")
        page.fill("[name=closure-last_day]", "2026-12-23")
        with page.expect_navigation():
            page.locator("form[action$='/hours/closures'] button[type=submit]").click()
        auditor.check(f"{lang}-hours-closure-error", page.content())

        page.goto(f"{base}/{location_id}")
        auditor.check(f"{lang}-hours-location")
        page.fill("[name=rule-start_time]", "12:00")
        page.fill("[name=rule-end_time]", "09:00")
        page.fill("[name=rule-slot_minutes]", "30")
        with page.expect_navigation():
            page.locator("form[action$='/rules'] button[type=submit]").click()
        auditor.check(f"{lang}-hours-rule-error", page.content())

        page.goto(f"{base}/{location_id}/rules/{rule_id}")
        auditor.check(f"{lang}-hours-rule-edit")
        page.fill("[name=rule-slot_minutes]", "11")
        auditor.submit()
        auditor.check(f"{lang}-hours-rule-edit-error", page.content())
    context.close()
    assert auditor.count == 2 * 6
    assert not auditor.violations, "\n".join(f"{k}: {v}" for k, v in auditor.violations.items())
    assert foreign == []
    assert vnu_errors(tmp_path) == []
