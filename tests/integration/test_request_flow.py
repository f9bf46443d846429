"""A resident asks for help, end to end: pages, storage, routing and email."""

from __future__ import annotations

import re
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from portal.db import get_db
from portal.models import HelpRequest, OutboxMessage, RequestDraft
from portal.services import drafts, requests
from tests.conftest import (
    FULL_ANSWERS,
    Mailbox,
    answer_all,
    check_easy_read_page,
    deliver,
    post_form,
    submit,
)
from tests.expect import body_of, match_in


def _count(app: Flask, model: type) -> int:
    with get_db(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_daughter_asks_for_her_mother_in_turkish_and_only_the_right_town_is_told(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    answer_all(client, "tr")
    check = client.get("/tr/request/check").get_data(as_text=True)
    assert "Fatma Demir" in check and "GEHEIMER-TEXT" in check
    response = submit(client, "tr")
    assert response.headers["Location"].endswith("/tr/request/done")
    done = client.get("/tr/request/done").get_data(as_text=True)
    reference = match_in(r"SD-\d{4}-\d{5}", done).group(0)
    assert "/tr/request/status/" in done

    with get_db(app).session() as session:
        assert session.scalars(select(HelpRequest)).one().locale == "tr"
    assert deliver(app).sent == 2
    staff_mail = mailbox.to("soziales-duo-shs@example.org")
    assert len(staff_mail) == 1 and not mailbox.to("soziales-duo-verl@example.org")
    assert (
        staff_mail[0]["Subject"]
        == f"[{reference}] Neue Anfrage · Schloß Holte-Stukenbrock · dringend"
    )
    assert staff_mail[0]["Auto-Submitted"] == "auto-generated"
    assert staff_mail[0]["Message-ID"].startswith(f"<{reference.lower()}.")
    staff_body = body_of(staff_mail[0], "plain")
    assert f"http://portal.test/de/staff/requests/{reference}" in staff_body
    assert "Pflege und Haushalt" in staff_body and "Mobilität" in staff_body

    resident = mailbox.to("elif@example.org")
    assert len(resident) == 1
    assert reference in resident[0]["Subject"]
    assert resident[0]["Subject"] != f"[{reference}] Ihre Anfrage beim Sozialen Duo ist angekommen"
    for message in mailbox.messages:
        raw = message.as_string()
        for secret in ("GEHEIMER", "Fatma", "Elif Demir", "123456", "einkaufen"):
            assert secret not in raw, f"{secret} leaked into an email"
        for part in message.walk():
            assert part.get_content_type() in {
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "text/html",
            }


def test_answers_are_kept_on_the_server_not_in_the_page(client: FlaskClient) -> None:
    answer_all(client)
    html = client.get("/de/request/details").get_data(as_text=True)
    hidden = re.findall(r'<input[^>]*type="hidden"[^>]*>', html)
    assert all("csrf_token" in field for field in hidden)


def test_someone_from_elsewhere_gets_a_kind_page_and_nothing_is_stored(
    app: Flask, client: FlaskClient
) -> None:
    post_form(client, "/de/request/", {})
    post_form(client, "/de/request/who", {"who": "me"})
    response = post_form(client, "/de/request/town", {"town": "elsewhere"})
    assert response.headers["Location"].endswith("/de/request/elsewhere")
    assert "nichts von Ihren Angaben gespeichert" in client.get("/de/request/elsewhere").get_data(
        as_text=True
    )
    assert _count(app, RequestDraft) == 0
    assert _count(app, HelpRequest) == 0
    assert client.get("/de/request/topics").headers["Location"].endswith("/de/request/")


def test_a_double_submit_creates_one_request(app: Flask, client: FlaskClient) -> None:
    answer_all(client)
    token_page = client.get("/de/request/check").get_data(as_text=True)
    token = match_in(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page).group(1)
    first = client.post("/de/request/check", data={"consent": "y", "csrf_token": token})
    second = client.post("/de/request/check", data={"consent": "y", "csrf_token": token})
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"].endswith("/de/request/done")
    assert _count(app, HelpRequest) == 1
    assert _count(app, OutboxMessage) == 2


def test_a_resident_whose_confirmation_was_lost_sends_again_and_sees_the_same_request(
    app: Flask, client: FlaskClient
) -> None:
    """The app server stored the request and died before answering: the browser kept its old
    cookie, and the resident presses "send" again."""
    answer_all(client)
    token_page = client.get("/de/request/check").get_data(as_text=True)
    token = match_in(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page).group(1)
    cookie = client.get_cookie("portal")
    assert cookie is not None
    client.post("/de/request/check", data={"consent": "y", "csrf_token": token})
    first = client.get("/de/request/done").get_data(as_text=True)
    reference = match_in(r"SD-\d{4}-\d{5}", first).group(0)
    status_link = match_in(r'class="status-link">([^<]+)<', first).group(1)
    client.set_cookie("portal", cookie.value)  # the answer that carried the new cookie was lost
    again = client.post("/de/request/check", data={"consent": "y", "csrf_token": token})
    assert again.headers["Location"].endswith("/de/request/done")
    shown = client.get("/de/request/done").get_data(as_text=True)
    assert match_in(r"SD-\d{4}-\d{5}", shown).group(0) == reference
    assert match_in(r'class="status-link">([^<]+)<', shown).group(1) == status_link
    assert _count(app, HelpRequest) == 1
    assert _count(app, OutboxMessage) == 2
    # The private link shown the second time opens the request.
    opened = client.get(status_link.replace("http://portal.test", ""), follow_redirects=True)
    assert reference in opened.get_data(as_text=True)


@pytest.mark.full_database
def test_parallel_submits_of_one_draft_create_one_request(app: Flask) -> None:
    with get_db(app).session() as session:
        key = drafts.start_draft(session, 2, {})
        draft = drafts.load_draft(session, key)
        drafts.save_answers(draft, _complete_answers(), 2)
    results: list[bool] = []

    def submit_once() -> None:
        with app.app_context(), get_db(app).session() as session:
            draft = drafts.load_draft(session, key)
            results.append(requests.submit_draft(session, draft, "de", 3, 1).created)

    threads = [threading.Thread(target=submit_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
    assert _count(app, HelpRequest) == 1


def _complete_answers() -> dict[str, object]:
    return {
        "who": "me",
        "town": "verl",
        "topics": ["benefits"],
        "need": "Wohngeld",
        "urgency": "normal",
        "contact_method": "callback",
        "contact_days": [],
        "contact_times": [],
        "language": "de",
        "interpreter": "no",
        "name": "Max",
        "phone": "+49 5246 1234",
    }


@pytest.mark.full_database
def test_concurrent_submissions_get_distinct_references(app: Flask) -> None:
    keys = []
    with get_db(app).session() as session:
        for _ in range(12):
            key = drafts.start_draft(session, 2, _complete_answers())
            keys.append(key)
    references: list[str] = []
    errors: list[BaseException] = []

    def submit_one(key: str) -> None:
        try:
            with app.app_context(), get_db(app).session() as session:
                draft = drafts.load_draft(session, key)
                references.append(
                    requests.submit_draft(session, draft, "de", 3, 1).request.reference
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit_one, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(references)) == 12
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in references)
    assert numbers == list(range(1, 13))


def test_a_missing_answer_gets_a_translated_error_summary_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    post_form(client, "/ar/request/", {})
    response = post_form(client, "/ar/request/who", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error-summary"' in html and 'href="#who"' in html
    assert "<title>" in html and "Bitte wählen Sie aus, für wen Sie fragen." not in html
    with get_db(app).session() as session:
        assert session.scalars(select(RequestDraft)).one().answers == {}


def test_overlong_and_malformed_contact_details_are_refused(client: FlaskClient) -> None:
    answer_all(client)
    response = post_form(
        client,
        "/de/request/details",
        {"name": "x" * 121, "phone": "abc", "email": "not-an-address\r\nBcc: x@example.org"},
    )
    html = response.get_data(as_text=True)
    assert "höchstens 120 Zeichen" in html
    assert "Telefonnummer wie" in html
    assert "E-Mail-Adresse wie" in html
    assert "Elif Demir" in client.get("/de/request/details").get_data(as_text=True)


def test_without_phone_or_email_the_details_step_says_so_and_keeps_the_old_ones(
    client: FlaskClient,
) -> None:
    answer_all(client)
    for blank in ({"phone": "", "email": ""}, {"phone": "\t", "email": "  "}):
        response = post_form(client, "/de/request/details", {"name": "Elif Demir", **blank})
        assert response.status_code == 200
        # The answers ask for a call back, so it is the phone number that is missing.
        assert "Für einen Rückruf brauchen wir Ihre Telefonnummer" in response.get_data(
            as_text=True
        )
    page = client.get("/de/request/details").get_data(as_text=True)
    assert "elif@example.org" in page
    assert client.get("/de/request/check").status_code == 200


def test_phone_and_email_are_normalised(app: Flask, client: FlaskClient) -> None:
    answer_all(
        client, overrides={"details": {"phone": "05207/123456", "email": " Elif@Example.ORG "}}
    )
    submit(client)
    with get_db(app).session() as session:
        stored = session.scalars(select(HelpRequest)).one()
    assert stored.phone == "+49 5207 123456"
    assert stored.email == "Elif@example.org"


def test_a_home_visit_needs_an_address_and_only_then_keeps_it(
    app: Flask, client: FlaskClient
) -> None:
    answer_all(client)
    post_form(client, "/de/request/contact?change=1", {"contact_method": "home_visit"})
    response = post_form(
        client, "/de/request/details?change=1", {"name": "Elif", "phone": "05207 123456"}
    )
    assert "Straße und Hausnummer" in response.get_data(as_text=True)
    post_form(
        client,
        "/de/request/details?change=1",
        {
            "name": "Elif",
            "phone": "05207 123456",
            "street": "Am Markt 1",
            "postcode": "33758",
            "city": "SHS",
        },
    )
    post_form(client, "/de/request/contact?change=1", {"contact_method": "callback"})
    submit(client)
    with get_db(app).session() as session:
        assert session.scalars(select(HelpRequest)).one().street == ""


def test_change_link_returns_to_the_check_page(client: FlaskClient) -> None:
    answer_all(client)
    response = post_form(client, "/de/request/urgency?change=1", {"urgency": "normal"})
    assert response.headers["Location"].endswith("/de/request/check")


def test_the_honeypot_stops_form_filling_programs(app: Flask, client: FlaskClient) -> None:
    answer_all(client)
    response = post_form(
        client, "/de/request/check", {"consent": "y", "website": "http://spam.example"}
    )
    assert response.status_code == 200
    assert _count(app, HelpRequest) == 0


def test_a_returning_visitor_can_resume_or_start_over(app: Flask, client: FlaskClient) -> None:
    answer_all(client)
    start = client.get("/de/request/").get_data(as_text=True)
    assert "Weitermachen" in start and "/de/request/check" in start
    post_form(client, "/de/request/", {})
    assert "/de/request/check" not in client.get("/de/request/").get_data(as_text=True)
    with get_db(app).session() as session:
        assert session.scalars(select(RequestDraft)).one().answers == {}


def test_status_page_lets_the_resident_add_information_and_withdraw(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    answer_all(client, "pl")
    submit(client, "pl")
    link = match_in(
        r'href="http://portal.test(/pl/request/status/[^"]+)"',
        client.get("/pl/request/done").get_data(as_text=True),
    ).group(1)
    other = app.test_client()
    assert other.get("/pl/request/status").status_code == 404
    assert other.get(link).headers["Location"].endswith("/pl/request/status")
    page = other.get("/pl/request/status").get_data(as_text=True)
    assert re.search(r"SD-\d{4}-\d{5}", page)
    token = match_in(r'name="add-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    other.post(
        "/pl/request/status/add",
        data={"add-csrf_token": token, "add-text": "Neue Nummer: 0170 999"},
    )
    other.post(
        "/pl/request/status/withdraw", data={"withdraw-csrf_token": token, "withdraw-confirm": "y"}
    )
    with get_db(app).session() as session:
        stored = session.scalars(select(HelpRequest)).one()
        assert stored.status == "closed" and stored.outcome == "withdrawn"
        assert [event.kind for event in stored.events] == [
            "submitted",
            "resident_added",
            "withdrawn",
        ]
    deliver(app)
    subjects = [m["Subject"] for m in mailbox.to("soziales-duo-shs@example.org")]
    assert any("Ergänzung" in s for s in subjects) and any("zurückgezogen" in s for s in subjects)
    assert all("0170 999" not in m.as_string() for m in mailbox.messages)


def test_an_unknown_status_link_is_not_found(client: FlaskClient) -> None:
    assert client.get("/de/request/status/not-a-real-token").status_code == 404


def test_request_pages_are_never_cached(client: FlaskClient) -> None:
    answer_all(client)
    assert client.get("/de/request/check").headers["Cache-Control"] == "no-store"


def test_someone_who_may_not_ask_for_the_person_is_told_what_to_do_and_nothing_is_stored(
    app: Flask, client: FlaskClient
) -> None:
    post_form(client, "/de/request/", {})
    post_form(client, "/de/request/who", {"who": "other"})
    relation = client.get("/de/request/relation").get_data(as_text=True)
    assert "Nein, oder ich weiß es nicht." in relation
    response = post_form(
        client,
        "/de/request/relation",
        {"subject_name": "Fatma Demir", "relationship": "neighbour", "authority": "no"},
    )
    assert response.headers["Location"].endswith("/de/request/permission")
    page = client.get("/de/request/permission").get_data(as_text=True)
    assert "Die Person muss einverstanden sein" in page
    assert "nichts von Ihren Angaben gespeichert" in page
    assert "zusammen mit der Person anrufen" in page
    # Whom to call: both town halls, the same list as on the error pages.
    assert 'href="tel:052469610"' in page and 'href="tel:0520789050"' in page
    assert _count(app, RequestDraft) == 0
    assert _count(app, HelpRequest) == 0
    assert client.get("/de/request/topics").headers["Location"].endswith("/de/request/")


def test_the_questions_about_someone_else_speak_of_the_person(client: FlaskClient) -> None:
    post_form(client, "/de/request/", {})
    post_form(client, "/de/request/who", {"who": "me"})
    assert "Wobei brauchen Sie Hilfe?" in client.get("/de/request/topics").get_data(as_text=True)
    post_form(client, "/de/request/who", {"who": "other"})
    topics = client.get("/de/request/topics").get_data(as_text=True)
    assert "Wobei braucht die Person Hilfe?" in topics
    assert "Wobei brauchen Sie Hilfe?" not in topics
    refused = post_form(client, "/de/request/need", {"need": ""}).get_data(as_text=True)
    assert "wobei die Person Hilfe braucht" in refused
    english = client.get("/en/request/topics").get_data(as_text=True)
    assert "Wobei braucht" not in english and "the person" in english
    needs = client.get("/de/request/accessibility").get_data(as_text=True)
    assert "Die Person hört schlecht" in needs and "Ich höre schlecht" not in needs


def test_a_call_back_cannot_be_chosen_with_only_an_email_address(
    app: Flask, client: FlaskClient
) -> None:
    post_form(client, "/de/request/", {})
    for step, data in FULL_ANSWERS[:-1]:
        post_form(client, f"/de/request/{step}", data)
    details = client.get("/de/request/details").get_data(as_text=True)
    assert "Dafür brauchen wir Ihre Telefonnummer" in details
    refused = post_form(
        client, "/de/request/details", {"name": "Elif Demir", "email": "elif@example.org"}
    )
    assert refused.status_code == 200
    assert "Für einen Rückruf brauchen wir Ihre Telefonnummer." in refused.get_data(as_text=True)
    # With a home visit the email address alone is enough again.
    post_form(client, "/de/request/contact", {"contact_method": "home_visit"})
    accepted = post_form(
        client,
        "/de/request/details",
        {
            "name": "Elif Demir",
            "email": "elif@example.org",
            "street": "Am Markt 1",
            "postcode": "33758",
            "city": "Schloß Holte-Stukenbrock",
        },
    )
    assert accepted.status_code == 302
    # Changed back to a call back afterwards: the check page sends the visitor to the number.
    post_form(client, "/de/request/contact?change=1", {"contact_method": "callback"})
    assert client.get("/de/request/check").headers["Location"].endswith("/de/request/details")
    assert _count(app, HelpRequest) == 0


def test_a_reader_of_leichte_sprache_asks_for_help_without_leaving_it(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    start = client.get("/ls/request/")
    assert start.status_code == 200
    check_easy_read_page(start.get_data(as_text=True))
    assert post_form(client, "/ls/request/", {}).headers["Location"].endswith("/ls/request/who")
    for step, data in FULL_ANSWERS:
        page = client.get(f"/ls/request/{step}")
        assert page.status_code == 200, step
        check_easy_read_page(page.get_data(as_text=True))
        response = post_form(client, f"/ls/request/{step}", data)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:2000])
        assert response.headers["Location"].startswith("/ls/request/"), step
    check_easy_read_page(client.get("/ls/request/check").get_data(as_text=True))
    assert submit(client, "ls").headers["Location"].endswith("/ls/request/done")
    done = client.get("/ls/request/done").get_data(as_text=True)
    check_easy_read_page(done)
    reference = re.search(r"SD-\d{4}-\d{5}", done).group(0)  # type: ignore[union-attr]
    status_path = re.search(r"http://portal\.test(/ls/request/status/[A-Za-z0-9_-]+)", done)
    assert status_path, "the private link stays in Leichte Sprache"
    with get_db(app).session() as session:
        stored = session.scalars(select(HelpRequest)).one()
        assert stored.locale == "ls" and stored.language == "tr"

    assert deliver(app).sent == 2
    [resident] = mailbox.to("elif@example.org")
    assert resident["Content-Language"] == "de"
    with app.test_request_context(), force_locale("de@ls"):
        subject = gettext(
            "[%(reference)s] Ihre Anfrage beim Sozialen Duo ist angekommen", reference=reference
        )
    assert resident["Subject"] == subject
    assert '<html lang="de" dir="ltr">' in body_of(resident, "html")
    plain = body_of(resident, "plain")
    assert "http://portal.test/ls/request/status/" in plain
    assert "Sie haben Fragen? Rufen Sie uns an: 05207 8905-0" in plain  # the town it went to
    assert 'href="tel:0520789050"' in body_of(resident, "html")
    [staff] = mailbox.to("soziales-duo-shs@example.org")
    assert staff["Content-Language"] == "de" and "Neue Anfrage" in staff["Subject"]
    status = client.get(status_path.group(1), follow_redirects=True)
    assert status.status_code == 200
    check_easy_read_page(status.get_data(as_text=True))
