"""axe-core (WCAG 2.1 A and AA) and the Nu Html Checker on every page, in every language,
including forms that show errors; no page may reach another host."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, Request
from sqlalchemy import select

from portal.cli import DEMO_CATALOGUE
from portal.db import get_db
from portal.i18n import LOCALE_CODES
from portal.models import HelpRequest
from portal.services import staff, towns
from tests import catalogue_data
from tests.booking_support import confirm, seed_schedule
from tests.booking_support import walk_booking as walk_booking_with_client
from tests.browser.conftest import new_context, record_audit
from tests.conftest import answer_all, csrf_token, post_form, submit
from tests.expect import present
from tests.page_inventory import PUBLIC_PAGES

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
VNU = ROOT / ".cache/node/node_modules/vnu-jar/build/dist/vnu.jar"
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PASSWORD = "correct horse battery staple"
CALL_NOTE = "Niemand da, Mailbox voll"
STAFF_NOTE = "Tochter kümmert sich um die Pflegekasse"
STAFF_MESSAGE = "Wann können wir Sie anrufen?"
OFFICE = "Pflegestützpunkt Kreis Gütersloh"


class Auditor:
    """Runs axe on each page and keeps the HTML as served for the Nu Html Checker."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.axe = Axe()
        self.violations: dict[str, list[str]] = {}
        self.count = 0
        # The method of the last navigation to each address: a POST's answer is its page.
        self.methods: dict[str, str] = {}
        page.on("request", self._note_navigation)

    def _note_navigation(self, request: Request) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.methods[request.url] = request.method

    def check(self, name: str, served: str | None = None) -> None:
        """Audit the page that is open now; ``served`` is its HTML when a GET cannot fetch it
        again (the answer to a POST). The page's endpoint is recorded for the route inventory."""
        url = self.page.url.split("#", 1)[0]
        record_audit(url, self.methods.get(url, "GET"))
        result = self.axe.run(self.page, options=AXE_OPTIONS)
        found = [
            f"{v['id']}: {v['help']} ({len(v['nodes'])}: {[n['target'] for n in v['nodes']]})"
            for v in result.response["violations"]
        ]
        if found:
            self.violations[f"{name} {self.page.url}"] = found
        if served is None:
            served = self.page.context.request.get(self.page.url).text()
        self.count += 1
        (self.folder / f"{self.count:03d}-{name}.html").write_text(served, "utf-8")

    def submit(self) -> None:
        """Send the form in <main> and wait for the next page."""
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").last.click()


def walk_public_pages(auditor: Auditor, base: str, lang: str) -> None:
    page = auditor.page
    for path, name in PUBLIC_PAGES:
        page.goto(f"{base}/{lang}{path}")
        auditor.check(f"{lang}-{name}")
    page.goto(f"{base}/{lang}/barrierefreiheit")
    auditor.submit()
    auditor.check(f"{lang}-a11y-errors")
    page.goto(f"{base}/{lang}/staff/signin")
    auditor.submit()
    auditor.check(f"{lang}-signin-errors")


def walk_request(auditor: Auditor, base: str, lang: str) -> None:
    page = auditor.page
    page.goto(f"{base}/{lang}/request/")
    auditor.submit()
    auditor.submit()  # no answer: the error summary
    auditor.check(f"{lang}-who-errors")

    def relation() -> None:
        page.fill("[name=subject_name]", "Fatma Demir")
        page.check("input[name=relationship][value=child]")
        page.check("input[name=authority][value=legal]")

    def details() -> None:
        page.fill("[name=name]", "Elif")
        page.fill("[name=phone]", "abc")

    answers = [
        ("who", lambda: page.check("input[name=who][value=other]")),
        ("relation", relation),
        ("town", lambda: page.check("input[name=town][value=verl]")),
        ("topics", lambda: page.check("input[name=topics][value=benefits]")),
        ("need", lambda: page.fill("[name=need]", "Wohngeld beantragen")),
        ("urgency", lambda: page.check("input[name=urgency][value=normal]")),
        ("contact", lambda: page.check("input[name=contact_method][value=home_visit]")),
        ("times", lambda: None),
        ("language", lambda: page.check("input[name=interpreter][value=yes]")),
        ("accessibility", lambda: None),
        ("details", details),
    ]
    for name, answer in answers:
        auditor.check(f"{lang}-{name}")
        answer()
        auditor.submit()
    auditor.check(f"{lang}-details-errors")
    page.fill("[name=phone]", "05246 12345")
    page.fill("[name=street]", "Am Markt 1")
    page.fill("[name=postcode]", "33415")
    page.fill("[name=city]", "Verl")
    auditor.submit()
    auditor.check(f"{lang}-check")
    page.check("input[name=consent]")
    auditor.submit()
    auditor.check(f"{lang}-done")
    link = present(page.locator("a.status-link").get_attribute("href"))
    page.goto(link.replace("http://portal.test", base))
    auditor.check(f"{lang}-status")
    with page.expect_navigation() as navigation:
        page.locator("form[action$='/status/withdraw'] button").click()
    assert navigation.value is not None
    auditor.check(f"{lang}-status-errors", navigation.value.text())
    with page.expect_navigation() as navigation:
        page.locator("form[action$='/status/erase'] button").click()
    assert navigation.value is not None
    auditor.check(f"{lang}-status-erase-errors", navigation.value.text())
    page.check("input[name=erase-confirm]")
    with page.expect_navigation():
        page.locator("form[action$='/status/erase'] button").click()
    assert page.url.endswith("/request/status/erased")
    auditor.check(f"{lang}-status-erased")
    page.goto(f"{base}/{lang}/request/")
    auditor.submit()
    page.check("input[name=who][value=me]")
    auditor.submit()
    page.check("input[name=town][value=elsewhere]")
    auditor.submit()
    auditor.check(f"{lang}-elsewhere")
    page.goto(f"{base}/{lang}/request/")
    auditor.submit()
    page.check("input[name=who][value=other]")
    auditor.submit()
    page.fill("[name=subject_name]", "Fatma Demir")
    page.check("input[name=relationship][value=child]")
    page.check("input[name=authority][value=no]")  # "Nein, oder ich weiß es nicht"
    auditor.submit()
    assert page.url.endswith("/request/permission")
    auditor.check(f"{lang}-no-authority")


def walk_booking(auditor: Auditor, base: str, lang: str, rival: FlaskClient) -> None:
    """Every booking page, with and without errors, the conflict page and the private pages."""
    page = auditor.page
    page.goto(f"{base}/{lang}/booking/")
    auditor.check(f"{lang}-booking-start")
    auditor.submit()
    auditor.submit()  # no answer: the error summary
    auditor.check(f"{lang}-booking-who-errors")
    page.check("input[name=who][value=other]")
    auditor.submit()
    auditor.check(f"{lang}-booking-relation")
    page.fill("[name=subject_name]", "Karl Schmidt")
    page.check("input[name=relationship][value=child]")
    page.check("input[name=authority][value=consent]")
    auditor.submit()
    auditor.check(f"{lang}-booking-town")
    page.check("input[name=town][value=verl]")
    auditor.submit()
    auditor.check(f"{lang}-booking-location")
    page.check("input[name=location][value=verl]")
    auditor.submit()
    auditor.check(f"{lang}-booking-slot")
    auditor.submit()
    auditor.check(f"{lang}-booking-slot-errors")
    key = page.locator("input[name=slot]").first.get_attribute("value") or ""
    page.check(f"input[name=slot][value='{key}']")
    auditor.submit()
    auditor.check(f"{lang}-booking-topic")
    page.check("input[name=topic][value=care]")
    auditor.submit()
    auditor.check(f"{lang}-booking-details")
    page.fill("[name=name]", "Anna Schmidt")
    auditor.submit()
    auditor.check(f"{lang}-booking-details-errors")
    # One address per language: the portal holds at most BOOKINGS_PER_CONTACT upcoming
    # appointments per contact, and this walk books in every language.
    page.fill("[name=email]", f"anna.{lang}@example.org")
    auditor.submit()
    auditor.check(f"{lang}-booking-check")
    auditor.submit()
    auditor.check(f"{lang}-booking-check-errors")
    rival_details = {"name": "Rita Rival", "email": f"rita.{lang}@example.org"}
    walk_booking_with_client(rival, lang=lang, slot=key, details=rival_details)  # quicker
    assert confirm(rival, lang).status_code == 302
    page.check("input[name=consent]")
    auditor.submit()
    assert page.url.endswith("/booking/taken")
    auditor.check(f"{lang}-booking-taken")
    page.locator("input[name=slot]").first.check()
    auditor.submit()
    page.check("input[name=consent]")
    auditor.submit()
    auditor.check(f"{lang}-booking-done")
    link = present(page.locator("a.status-link").get_attribute("href"))
    page.goto(link.replace("http://portal.test", base))
    auditor.check(f"{lang}-booking-manage")
    page.goto(f"{base}/{lang}/booking/manage/move")
    auditor.check(f"{lang}-booking-move")
    auditor.submit()
    auditor.check(f"{lang}-booking-move-errors")
    page.locator("input[name=slot]").first.check()
    auditor.submit()
    auditor.check(f"{lang}-booking-move-confirm")
    auditor.submit()
    auditor.check(f"{lang}-booking-manage-moved")
    page.goto(f"{base}/{lang}/booking/manage/cancel")
    auditor.check(f"{lang}-booking-cancel")
    auditor.submit()
    auditor.check(f"{lang}-booking-manage-cancelled")
    page.goto(f"{base}/{lang}/booking/manage/erase")
    auditor.check(f"{lang}-booking-erase")
    with page.expect_navigation() as navigation:
        page.locator("form[action$='/manage/erase'] button").click()
    assert navigation.value is not None
    auditor.check(f"{lang}-booking-erase-errors", navigation.value.text())


def walk_staff(auditor: Auditor, base: str, lang: str, email: str, secret: str) -> None:
    page = auditor.page
    page.goto(f"{base}/{lang}/staff/signin")
    page.fill("[name=email]", email)
    page.fill("[name=password]", PASSWORD)
    auditor.submit()
    auditor.check(f"{lang}-staff-second-factor")
    page.fill("[name=code]", pyotp.TOTP(secret).now())
    auditor.submit()
    auditor.check(f"{lang}-staff-inbox")
    page.locator("table a").first.click()
    page.wait_for_load_state()
    auditor.check(f"{lang}-staff-request")


def undelivered_and_stray_mail(app: Flask) -> None:
    """A notification that bounced and a reply that matched nothing, for the mailbox page."""
    from portal.models import OutboxMessage, utcnow
    from portal.services import inbound

    with get_db(app).session() as session:
        notice = session.scalars(select(OutboxMessage)).first()
        assert notice is not None
        notice.status, notice.bounced_at = "bounced", utcnow()
        notice.bounce_reason = "5.1.1 <soziales-duo-shs@example.org>: user unknown"
        stray = (
            b"From: Jemand <jemand@example.net>\r\nTo: antwort@portal.test\r\n"
            b"Subject: Frage zu meinem Termin\r\nMessage-ID: <stray@example.net>\r\n\r\n"
            b"Guten Tag, ich habe eine Frage.\r\n"
        )
        inbound.receive(session, stray, inbound.Identity("antwort@portal.test", "k" * 40), utcnow())


def walk_staff_work(auditor: Auditor, base: str, lang: str, worked: str, fresh: str) -> None:
    """The triage pages of a signed-in coordinator: filtered inbox, a worked request, its forms
    with errors, the four email confirmation pages, phone/counter entry and the audit log."""
    page = auditor.page
    staff_base = f"{base}/{lang}/staff"
    page.goto(f"{staff_base}/?status=waiting&urgency=urgent&assignee=&town=shs")
    assert page.locator(f"table a[href$='/{worked}']").count() == 1
    auditor.check(f"{lang}-staff-inbox-filtered")
    page.goto(f"{staff_base}/requests/{worked}")
    shown = page.inner_text("main")
    for typed in (CALL_NOTE, STAFF_NOTE, STAFF_MESSAGE, OFFICE):  # call, note, message, referral
        assert typed in shown, typed
    assert page.locator("form[action*='/bookings/'][action$='/cancel']").count() == 1
    auditor.check(f"{lang}-staff-request-worked")
    for step in ("note", "close", "propose"):  # sent empty: the page comes back with errors
        page.goto(f"{staff_base}/requests/{worked}")
        page.locator(f"details:has(form[action$='/{step}']) > summary").click()
        with page.expect_navigation() as navigation:
            page.locator(f"form[action$='/{step}'] button[type=submit]").click()
        answer = navigation.value
        assert answer is not None and answer.status == 400
        assert page.locator(".error-summary").count() == 1
        auditor.check(f"{lang}-staff-request-{step}-errors", answer.text())
    for action in ("take", "urgent", "forward", "duplicate"):
        page.goto(f"{staff_base}/requests/{fresh}/confirm/{action}")
        assert page.locator("main form:not([action$='/signout']) button").count() == 1
        auditor.check(f"{lang}-staff-confirm-{action}")
    page.goto(f"{staff_base}/requests/{worked}/confirm/take")  # a colleague has it already
    auditor.check(f"{lang}-staff-confirm-taken")
    page.goto(f"{staff_base}/requests/new")
    auditor.check(f"{lang}-staff-entry")
    auditor.submit()
    auditor.check(f"{lang}-staff-entry-errors")
    page.goto(f"{staff_base}/mailbox")
    assert page.locator("main table tbody tr").count() >= 1  # the bounced notification
    auditor.check(f"{lang}-staff-mailbox")
    with page.expect_navigation() as navigation:
        page.locator("form[action$='/file'] button[type=submit]").first.click()
    assert navigation.value is not None and navigation.value.status == 400
    auditor.check(f"{lang}-staff-mailbox-errors", navigation.value.text())
    page.goto(f"{staff_base}/requests/{worked}/export")
    assert STAFF_NOTE in page.inner_text("main")
    auditor.check(f"{lang}-staff-request-export")
    page.goto(f"{staff_base}/requests/{worked}/erase")
    auditor.check(f"{lang}-staff-request-erase")
    with page.expect_navigation() as navigation:
        page.locator("form[action$='/erase'] button[type=submit]").click()
    assert navigation.value is not None and navigation.value.status == 400
    auditor.check(f"{lang}-staff-request-erase-errors", navigation.value.text())
    page.goto(f"{staff_base}/audit")
    auditor.check(f"{lang}-staff-audit")
    page.goto(f"{staff_base}/audit?reference={worked}")
    auditor.check(f"{lang}-staff-audit-request")


def walk_catalogue(auditor: Auditor, base: str, lang: str, offers: list[str]) -> None:
    page = auditor.page
    for query, name in [
        ("", "catalogue"),
        ("?topic=care", "catalogue-topic"),
        ("?town=verl&page=2", "catalogue-page-2"),
        ("?q=zzzzqqq", "catalogue-nothing"),
        ("?topic=bogus&q=%3Cb%3E", "catalogue-errors"),
    ]:
        page.goto(f"{base}/{lang}/catalogue/{query}")
        auditor.check(f"{lang}-{name}")
    for number, offer in enumerate(offers):
        page.goto(f"{base}/{lang}/catalogue/service/{offer}")
        auditor.check(f"{lang}-offer-{number}")
    # A first visit (no session): the offer's page links to the request instead of a form.
    page.context.clear_cookies()
    page.goto(f"{base}/{lang}/catalogue/service/{offers[0]}")
    assert page.locator(".ask a.button").count() == 1
    auditor.check(f"{lang}-offer-first-visit")
    page.click(".ask a.button")  # the request's start page names the offer
    assert page.locator(".notice strong").count() == 1
    auditor.check(f"{lang}-request-start-offer")


def vnu_errors(folder: Path) -> list[str]:
    """Run the Nu Html Checker once over every saved page."""
    java = shutil.which("java")
    assert java and VNU.is_file(), "run `make qa-deps` to install Java and the Nu Html Checker"
    result = subprocess.run(
        [
            java,
            "-jar",
            str(VNU),
            "--format",
            "json",
            "--stdout",
            *sorted(map(str, folder.glob("*.html"))),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(result.stdout or "{}").get("messages", [])
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m.get('message')}"
        for m in messages
        if m.get("type") == "error"
    ]


@pytest.mark.parametrize("lang", LOCALE_CODES)
def test_every_page_passes_axe_and_the_html_checker_in_every_language(
    app: Flask, live_server: str, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """One language per test (``-k ls`` audits Leichte Sprache alone)."""
    seed_schedule(app)
    with get_db(app).session() as session:
        user = staff.create_staff(session, "coord@example.org", PASSWORD, "coordinator", None)
        secret = user.totp_secret or ""
    catalogue_data.load(app)
    demo_catalogue = json.loads(DEMO_CATALOGUE.read_text("utf-8"))
    catalogue_data.load(app, demo_catalogue, replace=False)
    demo = demo_catalogue["services"]
    offers = [catalogue_data.CARE, catalogue_data.GERMAN_ONLY, demo[0]["id"], demo[20]["id"]]
    context, foreign = new_context(browser, viewport={"width": 375, "height": 800})
    auditor = Auditor(context.new_page(), tmp_path)
    walk_public_pages(auditor, live_server, lang)
    walk_request(auditor, live_server, lang)
    walk_catalogue(auditor, live_server, lang, offers)
    walk_booking(auditor, live_server, lang, app.test_client())
    walk_staff(auditor, live_server, lang, "coord@example.org", secret)
    context.close()
    assert auditor.count >= 50
    assert auditor.violations == {}
    assert foreign == []
    assert vnu_errors(tmp_path) == []


def _staff_client(app: Flask, email: str) -> tuple[FlaskClient, str]:
    """A test client signed in as a new caseworker of Schloß Holte-Stukenbrock."""
    with get_db(app).session() as session:
        user = staff.create_staff(
            session,
            email,
            PASSWORD,
            "caseworker",
            towns.town_by_slug(session, "shs"),
            "Anna Berger",
        )
        secret = user.totp_secret or ""
    client = app.test_client()
    assert (
        post_form(client, "/de/staff/signin", {"email": email, "password": PASSWORD}).status_code
        == 302
    )
    assert (
        post_form(client, "/de/staff/code", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    )
    return client, email


def worked_and_fresh_request(app: Flask) -> tuple[str, str]:
    """Two requests: one taken, with a call, a note, a message, a referral and a booking; one
    untouched and not yet urgent."""
    for urgency in ("urgent", "soon"):
        resident = app.test_client()
        answer_all(resident, overrides={"urgency": {"urgency": urgency}})
        assert submit(resident).status_code == 302
    with get_db(app).session() as session:
        worked, fresh = session.scalars(select(HelpRequest.reference).order_by(HelpRequest.id))
    client, _email = _staff_client(app, "anna@example.org")
    page = f"/de/staff/requests/{worked}"
    token = csrf_token(client, page)
    slot = re.search(r'name="book-slot" value="([^"]+)"', client.get(page).get_data(as_text=True))
    assert slot, "no free slot offered"
    follow_up = (date.today() + timedelta(days=14)).isoformat()
    for step, data in [
        ("take", {}),
        ("call", {"result": "not_reached", "note": CALL_NOTE}),
        ("note", {"text": STAFF_NOTE}),
        ("message", {"text": STAFF_MESSAGE, "wait": "y"}),
        (
            "referral",
            {
                "organization": "",
                "office_name": OFFICE,
                "passed_on": "Name und Telefonnummer",
                "consent": "consent",
                "follow_up_on": follow_up,
            },
        ),
        ("book", {"slot": slot.group(1)}),
    ]:
        form = {f"{step}-{key}": value for key, value in {**data, "csrf_token": token}.items()}
        response = client.post(f"{page}/{step}", data=form)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:2000])
    return worked, fresh


def test_every_staff_triage_page_passes_axe_and_the_html_checker_in_german_and_english(
    app: Flask, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    seed_schedule(app)
    worked, fresh = worked_and_fresh_request(app)
    undelivered_and_stray_mail(app)
    with get_db(app).session() as session:
        user = staff.create_staff(session, "coord@example.org", PASSWORD, "coordinator", None)
        secret = user.totp_secret or ""
    context, foreign = new_context(browser, viewport={"width": 375, "height": 800})
    auditor = Auditor(context.new_page(), tmp_path)
    walk_staff(auditor, live_server, "de", "coord@example.org", secret)
    for lang in ("de", "en"):
        walk_staff_work(auditor, live_server, lang, worked, fresh)
    context.close()
    assert auditor.count == 3 + 2 * 19
    assert not auditor.violations, "\n".join(f"{k}: {v}" for k, v in auditor.violations.items())
    assert foreign == []
    assert vnu_errors(tmp_path) == []
