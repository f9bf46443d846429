"""axe-core and the Nu Html Checker on every staff account page, in German and Arabic:
the accounts list and an account (with their errors), "Mein Konto", the activation page, the
recovery codes and a link that no longer works."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from portal.db import get_db
from portal.services import accounts, staff, towns
from tests.browser.conftest import new_context, sign_in_staff
from tests.browser.test_every_page_is_accessible import PASSWORD, Auditor, vnu_errors

pytestmark = pytest.mark.browser
NEW_PASSWORD = "blue kettle under the stairs"


def _click(page: Page, selector: str) -> str:
    """Press the button in the form ``selector`` and return the HTML of the answer."""
    with page.expect_navigation() as navigation:
        page.locator(f"{selector} button[type=submit]").first.click()
    response = navigation.value
    return response.text() if response else page.content()


def walk_accounts(auditor: Auditor, base: str, lang: str, colleague_id: int, own_id: int) -> None:
    page = auditor.page
    staff_base = f"{base}/{lang}/staff"
    page.goto(f"{staff_base}/accounts")
    auditor.check(f"{lang}-accounts")
    auditor.check(f"{lang}-accounts-errors", _click(page, "#invite ~ form"))
    page.goto(f"{staff_base}/accounts/{colleague_id}")
    auditor.check(f"{lang}-account")
    page.locator("[name=role][value=caseworker]").check()
    for box in page.locator("[name=towns]").all():
        box.uncheck()
    auditor.check(f"{lang}-account-errors", _click(page, "form[action$='/role']"))
    page.goto(f"{staff_base}/accounts/{own_id}")
    served = _click(page, "form[action$='/disable']")
    auditor.check(f"{lang}-account-last-admin", served)
    page.goto(f"{staff_base}/me")
    auditor.check(f"{lang}-me")
    auditor.check(f"{lang}-me-errors", _click(page, "form[action$='/me/password']"))
    page.goto(f"{staff_base}/security")  # the sign-in above is in it
    assert page.locator("main table tbody tr").count() >= 1
    auditor.check(f"{lang}-security-log")
    page.goto(f"{staff_base}/security?kind=signin_failed")
    auditor.check(f"{lang}-security-log-filtered")


def walk_activation(auditor: Auditor, base: str, lang: str, token: str) -> None:
    page = auditor.page
    page.goto(f"{base}/{lang}/staff/activate/{token}")
    auditor.check(f"{lang}-activate")
    auditor.check(f"{lang}-activate-errors", _click(page, "main form"))
    page.fill("[name=password]", NEW_PASSWORD)
    page.fill("[name=password_again]", NEW_PASSWORD)
    secret = page.locator("code.secret").inner_text()
    page.fill("[name=code]", pyotp.TOTP(secret).now())
    auditor.check(f"{lang}-recovery-codes", _click(page, "main form"))
    page.goto(f"{base}/{lang}/staff/activate/{token}")
    auditor.check(f"{lang}-activate-used")


def test_every_account_page_passes_axe_and_the_html_checker_in_german_and_arabic(
    app: Flask, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    with get_db(app).session() as session:
        two_towns = [towns.town_by_slug(session, slug) for slug in ("verl", "shs")]
        colleague = staff.create_staff(
            session,
            "anna@example.org",
            PASSWORD,
            "caseworker",
            [town for town in two_towns if town is not None],
        )
        colleague_id = colleague.id
        admins = {}
        for lang in ("de", "ar"):
            admin = staff.create_staff(
                session, f"admin-{lang}@example.org", PASSWORD, "admin", None, "Admin"
            )
            admins[lang] = (admin.id, admin.totp_secret or "")
        tokens = {
            lang: accounts.invite(session, f"neu-{lang}@example.org", "coordinator", None).token
            for lang in ("de", "ar")
        }
    context, foreign = new_context(browser, viewport={"width": 375, "height": 800})
    auditor = Auditor(context.new_page(), tmp_path)
    for lang in ("de", "ar"):
        own_id, secret = admins[lang]
        # Only one administrator may remain for the refusal page: the other one is disabled.
        with get_db(app).session() as session:
            for other_lang, (other_id, _secret) in admins.items():
                user = accounts.account(session, other_id)
                assert user is not None
                user.active = other_lang == lang
        sign_in_staff(
            auditor.page, live_server, f"admin-{lang}@example.org", PASSWORD, secret, lang
        )
        walk_accounts(auditor, live_server, lang, colleague_id, own_id)
        auditor.page.context.clear_cookies()
        walk_activation(auditor, live_server, lang, tokens[lang])
    context.close()
    assert auditor.count == 2 * 13
    assert not auditor.violations, "\n".join(f"{k}: {v}" for k, v in auditor.violations.items())
    assert foreign == []
    assert vnu_errors(tmp_path) == []
