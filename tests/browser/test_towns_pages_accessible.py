"""axe-core and the Nu Html Checker on the administrator's town pages, error states
included, in German and Arabic (right to left), on a phone-sized screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser

from portal.db import get_db
from portal.services import staff, towns
from tests.browser.conftest import new_context, sign_in_staff
from tests.browser.test_every_page_is_accessible import PASSWORD, Auditor, vnu_errors

pytestmark = pytest.mark.browser


def test_every_town_page_passes_axe_and_the_html_checker_in_german_and_arabic(
    app: Flask, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    with get_db(app).session() as session:
        user = staff.create_staff(session, "admin@example.org", PASSWORD, "admin", None)
        secret = user.totp_secret or ""
        verl = towns.town_by_slug(session, "verl")
        assert verl is not None
        town_id = verl.id
        location_id = towns.town_locations(session, verl)[0].id
    context, foreign = new_context(browser, viewport={"width": 375, "height": 800})
    auditor = Auditor(context.new_page(), tmp_path)
    page = auditor.page
    sign_in_staff(page, live_server, "admin@example.org", PASSWORD, secret)
    for lang in ("de", "ar"):
        base = f"{live_server}/{lang}/staff/towns"
        page.goto(base)
        auditor.check(f"{lang}-towns")
        page.goto(f"{base}/new")
        auditor.check(f"{lang}-town-new")
        page.fill("[name=slug]", "Muster Stadt")
        page.fill("[name=postcodes]", "123")
        auditor.submit()
        auditor.check(f"{lang}-town-new-errors", page.content())
        page.goto(f"{base}/{town_id}")
        auditor.check(f"{lang}-town-edit")
        page.fill("[name=inbox_email]", "kein-postfach")
        auditor.submit()
        auditor.check(f"{lang}-town-edit-errors", page.content())
        page.goto(f"{base}/{town_id}/locations/new")
        auditor.check(f"{lang}-location-new")
        auditor.submit()
        auditor.check(f"{lang}-location-new-errors", page.content())
        page.goto(f"{base}/{town_id}/locations/{location_id}")
        auditor.check(f"{lang}-location-edit")
    context.close()
    assert auditor.count == 2 * 8
    assert not auditor.violations, "\n".join(f"{k}: {v}" for k, v in auditor.violations.items())
    assert foreign == []
    assert vnu_errors(tmp_path) == []
