"""axe-core (WCAG 2.1 A and AA) and the Nu Html Checker on every page of the catalogue editor,
an error state included, in German and Arabic, on a phone-sized screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser

from tests import catalogue_data
from tests.browser.conftest import new_context
from tests.browser.test_catalogue_editing_flow import sign_in_as_editor
from tests.browser.test_every_page_is_accessible import Auditor, vnu_errors
from tests.catalogue_data import CARE, ORGANIZATION

pytestmark = pytest.mark.browser


def walk_catalogue_editor(auditor: Auditor, base: str, lang: str) -> None:
    """The list, the three edit forms, an edit with errors, the preview, histories and the
    missing translations."""
    page = auditor.page
    editor = f"{base}/{lang}/staff/catalogue"
    page.goto(f"{editor}/")
    auditor.check(f"{lang}-catalogue-index")
    page.goto(f"{editor}/service/{CARE}/edit")
    assert page.locator("textarea[name=description__ar][lang=ar][dir=rtl]").count() == 1
    auditor.check(f"{lang}-catalogue-edit-service")
    page.fill("[name=name__de]", "")
    page.fill("[name=hours__MO]", "morgens")
    with page.expect_navigation() as navigation:
        page.locator("form.catalogue-editor button[type=submit]").click()
    answer = navigation.value
    assert answer is not None
    assert page.locator(".error-summary li").count() == 2
    auditor.check(f"{lang}-catalogue-edit-errors", answer.text())
    page.fill("[name=name__de]", "Ambulanter Pflegedienst Sonnenschein")
    page.fill("[name=hours__MO]", "08:00-12:00")
    page.fill("[name=description__ar]", "الرعاية في المنزل لكبار السن والمرضى.")
    with page.expect_navigation():
        page.locator("form.catalogue-editor button[type=submit]").click()
    assert page.url.endswith(f"/{lang}/staff/catalogue/service/{CARE}/preview")
    auditor.check(f"{lang}-catalogue-preview")
    page.goto(f"{editor}/service/{CARE}/edit")  # now with the draft's notice and buttons
    auditor.check(f"{lang}-catalogue-edit-draft")
    page.goto(f"{editor}/service/new")
    auditor.check(f"{lang}-catalogue-new-service")
    page.goto(f"{editor}/organization/{ORGANIZATION}/edit")
    auditor.check(f"{lang}-catalogue-edit-organization")
    page.fill("[name=description__de]", "Ein erfundener Verband für Tests, neu beschrieben.")
    with page.expect_navigation():
        page.locator("form.catalogue-editor button[type=submit]").click()
    page.goto(f"{editor}/organization/{ORGANIZATION}/preview")
    auditor.check(f"{lang}-catalogue-preview-organization")
    page.goto(f"{editor}/organization/{ORGANIZATION}/edit")
    with page.expect_navigation():
        page.locator(".catalogue-draft form[action$='/discard'] button").click()
    page.goto(f"{editor}/location/new")
    auditor.check(f"{lang}-catalogue-new-location")
    page.goto(f"{editor}/service/{CARE}/history")
    auditor.check(f"{lang}-catalogue-history-record")
    page.goto(f"{editor}/history")
    auditor.check(f"{lang}-catalogue-history")
    page.goto(f"{editor}/translations")
    auditor.check(f"{lang}-catalogue-translations")
    page.goto(f"{editor}/service/{CARE}/edit")  # leave no draft for the next language's walk
    with page.expect_navigation():
        page.locator(".catalogue-draft form[action$='/discard'] button").click()


def test_every_catalogue_editor_page_passes_axe_and_the_html_checker_in_german_and_arabic(
    app: Flask, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    catalogue_data.load(app)
    context, foreign = new_context(browser, viewport={"width": 375, "height": 800})
    auditor = Auditor(context.new_page(), tmp_path)
    sign_in_as_editor(app, auditor.page, live_server, "editor@example.org")
    for lang in ("de", "ar"):
        walk_catalogue_editor(auditor, live_server, lang)
    context.close()
    assert auditor.count == 2 * 12
    assert not auditor.violations, "\n".join(f"{k}: {v}" for k, v in auditor.violations.items())
    assert foreign == []
    assert vnu_errors(tmp_path) == []
