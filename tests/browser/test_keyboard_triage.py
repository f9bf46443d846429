"""The whole triage path by keyboard alone, without JavaScript, in German: from the staff
email's one-click link through sign-in, taking, a message, the resident's answer, a booking
and closing, with every step in the access log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page

from portal.db import get_db
from portal.services import staff, towns
from tests.booking_support import seed_schedule
from tests.browser.conftest import ForeignRequests, new_context
from tests.browser.test_keyboard_request import choose, fill, tab_to
from tests.conftest import Mailbox, answer_all, deliver, submit

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
COLLEAGUE = "Anna Berger"
NOTE = "INTERN-NOTIZ Tochter kümmert sich schon um die Pflegekasse"
MESSAGE = "Guten Tag, wann können wir Sie am besten anrufen?"
ANSWER = "Am liebsten vormittags, danke."
TAB_LIMIT = 400  # the request page has many stops before the panel at the end


def text_part(message: EmailMessage) -> str:
    """The plain-text part of an email."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def local(url: str, base: str) -> str:
    """The email's link on the live server: same path, the live server's origin."""
    parts = urlsplit(url)
    return f"{base}{parts.path}{'?' + parts.query if parts.query else ''}"


def found(pattern: str, text: str) -> str:
    """The first match of ``pattern`` in ``text``; fails when there is none."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in:\n{text}"
    return match.group(0)


def link_after(label: str, text: str) -> str:
    """The URL that follows ``label`` in an email's text."""
    match = re.search(re.escape(label) + r"\s*(http\S+)", text)
    assert match, f"no link after {label!r} in:\n{text}"
    return match.group(1)


def press_enter_on(page: Page, selector: str, navigates: bool = True) -> None:
    """Tab to a link, button or summary and press Enter."""
    tab_to(page, selector, TAB_LIMIT)
    if navigates:
        with page.expect_navigation():
            page.keyboard.press("Enter")
    else:
        page.keyboard.press("Enter")


def open_panel(page: Page, summary: str) -> None:
    """Open a <details> panel as a keyboard user does: focus its summary, press Enter."""
    selector = f'details.step-panel > summary:has-text("{summary}")'
    press_enter_on(page, selector, navigates=False)
    assert page.locator(selector).locator("xpath=..").get_attribute("open") is not None


def send_in_panel(page: Page, summary: str) -> None:
    """Tab to the submit button of the open panel and press Enter."""
    press_enter_on(
        page, f'details.step-panel:has(> summary:has-text("{summary}")) button[type="submit"]'
    )


@pytest.fixture
def keyboard_context(browser: Browser) -> Iterator[tuple[BrowserContext, ForeignRequests]]:
    """A desktop-sized context without JavaScript."""
    context, foreign = new_context(
        browser, viewport={"width": 1024, "height": 800}, java_script_enabled=False
    )
    yield context, foreign
    context.close()


def sign_in_by_keyboard(page: Page, email: str, secret: str) -> None:
    """Email, password and the one-time code, typed; Enter sends each form."""
    assert "/de/staff/signin" in page.url
    fill(page, "email", email)
    fill(page, "password", PASSWORD)
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/de/staff/code" in page.url  # the app was set up through the activation link
    fill(page, "code", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.keyboard.press("Enter")


def resident_status_text(page: Page) -> str:
    """The resident's status page, checked for what must never show there."""
    text = page.inner_text("body")
    assert "INTERN-NOTIZ" not in text
    assert COLLEAGUE not in text and "anna@example.org" not in text
    return text


def test_a_caseworker_works_a_request_from_the_email_to_the_end_by_keyboard_alone(
    app: Flask,
    live_server: str,
    browser: Browser,
    keyboard_context: tuple[BrowserContext, ForeignRequests],
    mailbox: Mailbox,
) -> None:
    seed_schedule(app)
    with get_db(app).session() as session:
        user = staff.create_staff(
            session,
            "anna@example.org",
            PASSWORD,
            "caseworker",
            towns.town_by_slug(session, "shs"),
            display_name=COLLEAGUE,
        )
        secret = user.totp_secret or ""
    resident_client = app.test_client()
    answer_all(resident_client)
    assert submit(resident_client).status_code == 302
    deliver(app)
    inbox_mail = mailbox.to("soziales-duo-shs@example.org")
    assert len(inbox_mail) == 1
    staff_text = text_part(inbox_mail[0])
    reference = found(r"SD-\d{4}-\d{5}", staff_text)
    take_url = link_after("Übernehmen:", staff_text)
    assert take_url.endswith(f"/de/staff/requests/{reference}/confirm/take")

    # The caseworker follows the link, signs in and confirms.
    context, foreign = keyboard_context
    page = context.new_page()
    page.goto(local(take_url, live_server))
    sign_in_by_keyboard(page, "anna@example.org", secret)
    assert page.url.endswith(f"/de/staff/requests/{reference}/confirm/take")
    assert "Möchten Sie diese Anfrage übernehmen?" in page.inner_text("main")
    press_enter_on(page, 'main form button:has-text("Ja, übernehmen")')
    assert page.url.endswith(f"/de/staff/requests/{reference}")
    assert "Sie bearbeiten jetzt diese Anfrage." in page.inner_text("body")
    assert COLLEAGUE in page.inner_text("dl.summary >> nth=0")

    # An internal note, then a message to the resident.
    open_panel(page, "Interne Notiz")
    fill(page, "note-text", NOTE)
    send_in_panel(page, "Interne Notiz")
    assert "Die Notiz ist gespeichert." in page.inner_text("body")
    open_panel(page, "Nachricht an die Person")
    fill(page, "message-text", MESSAGE)
    send_in_panel(page, "Nachricht an die Person")
    assert "Die Nachricht ist gesendet." in page.inner_text("body")

    deliver(app)
    resident_mail = [
        m for m in mailbox.to("elif@example.org") if "Neue Nachricht" in str(m["Subject"])
    ]
    assert len(resident_mail) == 1, [str(m["Subject"]) for m in mailbox.to("elif@example.org")]
    resident_text = text_part(resident_mail[0])
    assert NOTE not in resident_text and COLLEAGUE not in resident_text
    message_link = found(r"http\S+/de/request/status/\S+", resident_text)

    # The resident reads the message and answers it, by keyboard.
    resident_context, resident_foreign = new_context(
        browser, viewport={"width": 360, "height": 740}, java_script_enabled=False
    )
    resident = resident_context.new_page()
    resident.goto(local(message_link, live_server))
    assert resident.url.endswith("/de/request/status")
    status = resident_status_text(resident)
    assert MESSAGE in status and "Nachricht vom Sozialen Duo" in status
    assert resident.locator("h2", has_text="Antworten").count() == 1
    fill(resident, "add-text", ANSWER)
    press_enter_on(resident, 'form[action$="/status/add"] button[type="submit"]')
    assert ANSWER in resident_status_text(resident)

    # Back as staff: the answer is there; book an appointment, then close.
    page.goto(f"{live_server}/de/staff/requests/{reference}")
    assert ANSWER in page.inner_text("main")
    open_panel(page, "Termin für diese Anfrage buchen")
    first_slot = page.locator('input[name="book-slot"]').first.get_attribute("value") or ""
    choose(page, "book-slot", first_slot)
    send_in_panel(page, "Termin für diese Anfrage buchen")
    assert "Der Termin ist gebucht." in page.inner_text("body")
    open_panel(page, "Abschließen")
    choose(page, "close-outcome", "helped")
    send_in_panel(page, "Abschließen")
    assert "Die Anfrage ist abgeschlossen." in page.inner_text("body")
    assert "geholfen" in page.inner_text("dl.summary >> nth=0")

    # Every step is in the access log of the request.
    trail = page.locator("h2:has-text('Protokoll der Zugriffe') + ul").inner_text()
    for label in (
        "Anfrage angesehen",
        "Anfrage übernommen",
        "Notiz geschrieben",
        "Nachricht an die Person gesendet",
        "Termin gebucht",
        "Anfrage abgeschlossen",
    ):
        assert label in trail, (label, trail)
    assert COLLEAGUE in trail

    # The resident sees the booking and the end, never the note or the colleague.
    resident.goto(f"{live_server}/de/request/status")
    final = resident_status_text(resident)
    assert "Termin gebucht" in final and MESSAGE in final and ANSWER in final
    resident_context.close()

    # The coordinator's audit log for the request holds the same steps, with who did them.
    with get_db(app).session() as session:
        coordinator = staff.create_staff(session, "lea@example.org", PASSWORD, "coordinator", None)
        coordinator_secret = coordinator.totp_secret or ""
    audit_context, audit_foreign = new_context(browser, java_script_enabled=False)
    audit_page = audit_context.new_page()
    audit_page.goto(f"{live_server}/de/staff/audit?reference={reference}")
    sign_in_by_keyboard(audit_page, "lea@example.org", coordinator_secret)
    assert audit_page.url.endswith(f"/de/staff/audit?reference={reference}")
    rows = [
        (cells[1], cells[2])
        for cells in (
            row.locator("td").all_inner_texts() for row in audit_page.locator("tbody tr").all()
        )
    ]
    done = {what.split(" (")[0] for who, what in rows if who == COLLEAGUE}
    for label in (
        "Anfrage angesehen",
        "Anfrage übernommen",
        "Nachricht an die Person gesendet",
        "Termin gebucht",
        "Anfrage abgeschlossen",
    ):
        assert label in done, (label, rows)
    audit_context.close()
    assert foreign == [] and resident_foreign == [] and audit_foreign == []
