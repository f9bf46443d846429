"""A catalogue editor changes an offer in German and Turkish, previews it in both languages
and publishes it; residents see the change only after publication."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from portal.db import get_db
from portal.services import staff
from tests import catalogue_data
from tests.browser.conftest import new_context, sign_in_staff
from tests.catalogue_data import CARE

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
GERMAN = "Neu: Wir kommen auch am Wochenende."
TURKISH = "Yeni: Hafta sonu da geliyoruz."


def sign_in_as_editor(app: Flask, page: Page, base: str, email: str) -> None:
    """Create an editor account and sign in with password and one-time code."""
    with get_db(app).session() as session:
        user = staff.create_staff(session, email, PASSWORD, "editor", None, "Eda Editor")
        secret = user.totp_secret or ""
    sign_in_staff(page, base, email, PASSWORD, secret)


def test_an_offer_edited_in_german_and_turkish_is_previewed_then_published(
    app: Flask, live_server: str, browser: Browser
) -> None:
    catalogue_data.load(app)
    context, foreign = new_context(browser)
    page = context.new_page()
    sign_in_as_editor(app, page, live_server, "eda@example.org")

    assert page.url.endswith("/de/staff/catalogue/")  # an editor lands on the catalogue
    with page.expect_navigation():
        page.get_by_role("link", name="Ambulanter Pflegedienst Sonnenschein", exact=True).click()
    page.fill("[name=description__de]", GERMAN)
    page.fill("[name=description__tr]", TURKISH)
    with page.expect_navigation():
        page.get_by_role("button", name="Als Entwurf speichern").click()

    # The preview: the public page with the draft, in German.
    assert page.url.endswith(f"/de/staff/catalogue/service/{CARE}/preview")
    assert GERMAN in page.inner_text("main")
    resident, resident_foreign = new_context(browser)
    public = resident.new_page()
    public.goto(f"{live_server}/de/catalogue/service/{CARE}")
    assert GERMAN not in public.inner_text("main")

    # The same preview in Turkish.
    with page.expect_navigation():
        page.locator(".catalogue-preview a[hreflang=tr]").click()
    assert f"/tr/staff/catalogue/service/{CARE}/preview" in page.url
    assert TURKISH in page.inner_text("main")
    assert GERMAN not in page.inner_text("main")

    with page.expect_navigation():
        page.locator(".catalogue-preview form[action$='/publish'] button").click()
    assert f"/tr/staff/catalogue/service/{CARE}/history" in page.url
    assert "Eda Editor" in page.inner_text("main")  # the history names who published

    public.goto(f"{live_server}/de/catalogue/service/{CARE}")
    assert GERMAN in public.inner_text("main")
    public.goto(f"{live_server}/tr/catalogue/service/{CARE}")
    assert TURKISH in public.inner_text("main")
    resident.close()
    context.close()
    assert foreign == [] and resident_foreign == []
