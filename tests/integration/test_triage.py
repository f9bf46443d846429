"""Staff work a request from "new" to "closed with an outcome": from the email, in the staff
area, with messages to the resident, calls, referrals, appointments and the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError
from werkzeug.test import TestResponse

from portal.db import get_db
from portal.models import AuditEntry, Booking, HelpRequest, ResidentLink, utcnow
from portal.services import towns
from tests.booking_support import seed_schedule
from tests.conftest import Mailbox, answer_all, csrf_token, deliver, post_form, submit
from tests.expect import match_in, present
from tests.integration.test_staff import make_staff, sign_in

SHS_INBOX = "soziales-duo-shs@example.org"
VERL_INBOX = "soziales-duo-verl@example.org"


def _reference(client: FlaskClient, lang: str = "de", town: str = "shs", **overrides: dict) -> str:
    answer_all(client, lang=lang, overrides={"town": {"town": town}, **overrides})
    submit(client, lang)
    html = client.get(f"/{lang}/request/done").get_data(as_text=True)
    return match_in(r"SD-\d{4}-\d{5}", html).group(0)


def _stored(app: Flask, reference: str = "") -> HelpRequest:
    """The (only, or named) request as stored now, with its events loaded."""
    with get_db(app).readers() as session:
        query = select(HelpRequest)
        if reference:
            query = query.where(HelpRequest.reference == reference)
        found = session.scalars(query).one()
        for event in found.events:
            _ = event.data, event.staff
        return found


def _text(message: object) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]


def _path(url: str) -> str:
    return url.removeprefix("http://portal.test")


def _staff(
    app: Flask, email: str, town: str | None = "shs", role: str = "caseworker"
) -> FlaskClient:
    secret = make_staff(app, email, town, role=role)
    client = app.test_client()
    sign_in(client, email, secret)
    return client


def _step(
    client: FlaskClient, reference: str, step: str, data: dict[str, object] | None = None
) -> TestResponse:
    page = f"/de/staff/requests/{reference}"
    token = csrf_token(client, page)
    fields = {f"{step}-{name}": value for name, value in (data or {}).items()}
    return client.post(f"{page}/{step}", data={f"{step}-csrf_token": token, **fields})


def test_a_caseworker_takes_a_request_from_the_email_after_signing_in(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    reference = _reference(client)
    deliver(app)
    [notice] = mailbox.to(SHS_INBOX)
    take_url = _path(match_in(r"Übernehmen: (\S+)", _text(notice)).group(1))
    secret = make_staff(app, "anna@example.org", "shs")
    staff_client = app.test_client()
    assert staff_client.get(take_url).headers["Location"].endswith("/de/staff/signin")
    response = post_form(
        staff_client,
        "/de/staff/signin",
        {"email": "anna@example.org", "password": "correct horse battery staple"},
    )
    import pyotp

    response = post_form(staff_client, "/de/staff/code", {"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"].endswith(take_url)
    # Opening the link (as a mail scanner would) changes nothing.
    page = staff_client.get(take_url).get_data(as_text=True)
    assert "Ja, übernehmen" in page and _stored(app).assignee_id is None
    token = match_in(r'name="take-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = staff_client.post(
        f"/de/staff/requests/{reference}/take", data={"take-csrf_token": token}
    )
    assert response.status_code == 302
    stored = _stored(app)
    assert stored.status == "in_progress" and present(stored.assignee).email == "anna@example.org"
    # A colleague who clicks the same link later learns who was first.
    other = _staff(app, "bea@example.org", "shs")
    assert "anna@example.org hat diese Anfrage schon übernommen" in other.get(take_url).get_data(
        as_text=True
    )
    _step(other, reference, "take")
    assert present(_stored(app).assignee).email == "anna@example.org"
    with get_db(app).session() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "take" in actions and actions.count("take") == 1


def test_urgent_forward_and_duplicate_from_the_email_each_need_a_confirming_post(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    first = _reference(client)
    second = _reference(app.test_client())
    staff_client = _staff(app, "coord@example.org", None, "coordinator")
    for action in ("urgent", "forward", "duplicate"):
        assert staff_client.get(f"/de/staff/requests/{second}/confirm/{action}").status_code == 200
    stored = _stored(app, second)
    assert (stored.urgency, stored.status) == ("urgent", "received")  # as submitted
    assert stored.town.slug == "shs"
    response = _step(
        staff_client, second, "close", {"outcome": "duplicate", "duplicate_of": "SD-2000-00001"}
    )
    assert response.status_code == 302  # refused: there is no such request
    assert _stored(app, second).status == "received"
    _step(staff_client, second, "close", {"outcome": "duplicate", "duplicate_of": first})
    closed = _stored(app, second)
    assert closed.status == "closed" and closed.outcome == "duplicate"
    assert closed.duplicate_of == first


def test_forwarding_moves_the_request_to_the_other_towns_inbox(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    reference = _reference(client, town="shs")
    shs = _staff(app, "anna@example.org", "shs")
    _step(shs, reference, "take")
    with get_db(app).readers() as session:
        verl_town_id = present(towns.town_by_slug(session, "verl")).id
    assert _step(shs, reference, "forward", {"town": str(verl_town_id)}).status_code == 302
    stored = _stored(app)
    assert stored.town.slug == "verl" and stored.assignee_id is None and stored.status == "received"
    assert shs.get(f"/de/staff/requests/{reference}").status_code == 404
    deliver(app)
    assert any(reference in str(m["Subject"]) for m in mailbox.to(VERL_INBOX))


def test_a_message_reaches_the_resident_who_answers_on_the_status_page(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    reference = _reference(client, lang="tr")
    deliver(app)
    staff_client = _staff(app, "anna@example.org", "shs")
    _step(staff_client, reference, "note", {"text": "INTERNE-NOTIZ"})
    response = _step(
        staff_client,
        reference,
        "message",
        {"text": "Bitte schicken Sie uns den Bescheid. NACHRICHT-1", "wait": "y"},
    )
    assert response.status_code == 302
    stored = _stored(app)
    assert stored.status == "waiting" and stored.waiting_for == "resident"
    deliver(app)
    # The confirmation first, then the message notice, both in Turkish.
    _confirmation, notice = mailbox.to("elif@example.org")
    assert str(notice["Subject"]) == f"[{reference}] Soziales Duo'dan yeni mesaj"
    body = _text(notice)
    assert "NACHRICHT-1" not in body  # the town does not allow the text in emails
    link = _path(match_in(r"(http://portal\.test/tr/request/status/\S+)", body).group(1))
    resident = app.test_client()
    page = resident.get(resident.get(link).headers["Location"]).get_data(as_text=True)
    assert "NACHRICHT-1" in page and "INTERNE-NOTIZ" not in page and "anna@" not in page
    token = match_in(r'name="add-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resident.post("/tr/request/status/add", data={"add-csrf_token": token, "add-text": "ANTWORT-1"})
    stored = _stored(app)
    assert stored.status == "in_progress" and stored.events[-1].kind == "resident_message"
    deliver(app)
    staff_mails = mailbox.to(SHS_INBOX)
    assert "ANTWORT-1" not in "".join(m.as_string() for m in staff_mails)
    assert "ANTWORT-1" in staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    with get_db(app).session() as session:
        link_row = session.scalars(select(ResidentLink)).one()
        assert len(link_row.token_hash) == 64
        link_row.expires_at = utcnow() - timedelta(minutes=1)
    expired = app.test_client().get(link)
    assert expired.status_code == 410
    assert "Bu bağlantı artık geçerli değil" in expired.get_data(as_text=True)  # in Turkish


def test_the_message_text_travels_in_the_email_only_where_the_town_allows_it(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    from portal.models import Town

    with get_db(app).session() as session:
        session.scalars(select(Town).where(Town.slug == "shs")).one().message_text_in_email = True
    reference = _reference(client)
    staff_client = _staff(app, "anna@example.org", "shs")
    _step(staff_client, reference, "message", {"text": "NACHRICHT-IM-TEXT"})
    deliver(app)
    assert any("NACHRICHT-IM-TEXT" in _text(m) for m in mailbox.to("elif@example.org"))


def test_without_an_email_address_only_a_call_or_letter_reaches_the_resident(
    app: Flask, client: FlaskClient
) -> None:
    reference = _reference(
        client, details={"name": "Elif Demir", "phone": "05207 123456", "email": ""}
    )
    staff_client = _staff(app, "anna@example.org", "shs")
    page = staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    assert "nur per Telefon oder Brief" in page
    assert '<a href="tel:+495207123456"><bdi dir="ltr">+49 5207 123456</bdi></a>' in page
    _step(staff_client, reference, "message", {"text": "Hallo"})
    assert not any(e.kind == "staff_message" for e in _stored(app).events)


def test_two_calls_that_reach_nobody_suggest_closing_as_no_contact(
    app: Flask, client: FlaskClient
) -> None:
    reference = _reference(client)
    staff_client = _staff(app, "anna@example.org", "shs")
    _step(staff_client, reference, "call", {"result": "not_reached"})
    page = staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    assert "zweimal nicht zu erreichen" not in page
    _step(staff_client, reference, "call", {"result": "voicemail", "note": "AB besprochen"})
    page = staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    assert "zweimal nicht zu erreichen" in page
    _step(staff_client, reference, "close", {"outcome": "no_contact"})
    stored = _stored(app)
    assert stored.status == "closed" and stored.outcome == "no_contact" and stored.closed_at


def test_a_step_with_bad_input_shows_a_message_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    reference = _reference(client)
    staff_client = _staff(app, "anna@example.org", "shs")
    events = len(_stored(app).events)
    response = _step(staff_client, reference, "close", {})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Bitte wählen Sie ein Ergebnis." in page
    assert "<title>Fehler:" in page
    response = _step(staff_client, reference, "referral", {"passed_on": "", "consent": ""})
    assert "Ohne Einverständnis dürfen wir nichts weitergeben" in response.get_data(as_text=True)
    stored = _stored(app)
    assert stored.status == "received" and len(stored.events) == events


def test_a_referral_stays_open_until_it_is_accepted(app: Flask, client: FlaskClient) -> None:
    reference = _reference(client)
    staff_client = _staff(app, "anna@example.org", "shs")
    follow_up = (utcnow() + timedelta(days=7)).date().isoformat()
    _step(
        staff_client,
        reference,
        "referral",
        {
            "office_name": "Pflegeberatung Kreis Gütersloh",
            "passed_on": "Name, Telefon, Anliegen Pflege",
            "consent": "consent",
            "follow_up_on": follow_up,
        },
    )
    inbox = staff_client.get("/de/staff/").get_data(as_text=True)
    assert "Pflegeberatung Kreis Gütersloh" in inbox
    page = staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    action = match_in(r'action="([^"]+/accept)"', page).group(1)
    token = match_in(r'name="accept-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    staff_client.post(action, data={"accept-csrf_token": token})
    assert "Pflegeberatung Kreis Gütersloh" not in staff_client.get("/de/staff/").get_data(
        as_text=True
    )


def test_staff_book_for_the_request_and_withdrawing_cancels_it(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    seed_schedule(app)
    reference = _reference(client)
    staff_client = _staff(app, "anna@example.org", "shs")
    page = staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    slot = match_in(r'name="book-slot" value="([^"]+)"', page).group(1)
    assert _step(staff_client, reference, "book", {"slot": slot}).status_code == 302
    deliver(app)
    [booked] = [m for m in mailbox.to("elif@example.org") if "Termin" in str(m["Subject"])]
    assert any(part.get_content_type() == "text/calendar" for part in booked.walk())
    status_token_client = client  # the resident follows the private link from the confirmation
    done = client.get("/de/request/done").get_data(as_text=True)
    link = _path(match_in(r'(http://portal\.test/de/request/status/[^"<\s]+)', done).group(1))
    status_token_client.get(link)
    page = status_token_client.get("/de/request/status").get_data(as_text=True)
    token = match_in(r'name="withdraw-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    status_token_client.post(
        "/de/request/status/withdraw",
        data={"withdraw-csrf_token": token, "withdraw-confirm": "y"},
    )
    with get_db(app).session() as session:
        [booking] = session.scalars(select(Booking)).all()
        assert booking.status == "cancelled"
    deliver(app)
    assert any("abgesagt" in str(m["Subject"]).lower() for m in mailbox.to("elif@example.org"))


def test_a_request_from_the_phone_is_entered_with_its_channel(app: Flask, mailbox: Mailbox) -> None:
    staff_client = _staff(app, "anna@example.org", "shs")
    url = "/de/staff/requests/new"
    response = post_form(staff_client, url, {"channel": "phone"})
    assert (
        response.status_code == 400
        and "Bitte wählen Sie mindestens ein Thema aus." in response.get_data(as_text=True)
    )
    response = post_form(
        staff_client,
        url,
        {
            "channel": "phone",
            "town": "shs",
            "name": "Karl Schmidt",
            "phone": "05207 1234567",
            "email": "karl@example.org",
            "topics": ["household"],
            "need": "Braucht Hilfe beim Einkaufen.",
            "urgency": "soon",
            "contact_method": "callback",
            "language": "de",
        },
    )
    assert response.status_code == 302
    stored = _stored(app)
    assert stored.channel == "phone" and present(stored.assignee).email == "anna@example.org"
    assert stored.events[0].kind == "entered"
    deliver(app)
    assert mailbox.to("karl@example.org")


def test_the_audit_log_cannot_be_changed_while_its_request_exists(
    app: Flask, client: FlaskClient
) -> None:
    reference = _reference(client)
    staff_client = _staff(app, "anna@example.org", "shs")
    staff_client.get(f"/de/staff/requests/{reference}")
    with pytest.raises(DatabaseError), get_db(app).session() as session:
        entry = present(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).first()
        )
        entry.action = "nothing"
    with pytest.raises(DatabaseError), get_db(app).session() as session:
        session.delete(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).first()
        )
    coordinator = _staff(app, "coord@example.org", None, "coordinator")
    page = coordinator.get(f"/de/staff/audit?reference={reference}").get_data(as_text=True)
    assert "Anfrage angesehen" in page and "anna@example.org" in page


def test_the_coordinator_sees_a_bounced_notification_and_files_stray_mail(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    from portal.models import OutboxMessage
    from portal.services import inbound

    reference = _reference(client)
    deliver(app)
    with get_db(app).session() as session:
        notice = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient_index == SHS_INBOX)
        ).one()
        notice.status, notice.bounced_at = "bounced", utcnow()
        notice.bounce_reason = "5.1.1 user unknown"
        stray = (
            b"From: someone@example.net\r\nTo: antwort@portal.test\r\n"
            b"Subject: Frage\r\nMessage-ID: <stray-1@example.net>\r\n\r\nSTRAY-TEXT\r\n"
        )
        inbound.receive(session, stray, inbound.Identity("antwort@portal.test", "k" * 40), utcnow())
    coordinator = _staff(app, "coord@example.org", None, "coordinator")
    inbox = coordinator.get("/de/staff/").get_data(as_text=True)
    assert "1 E-Mail ist seit gestern nicht angekommen" in inbox
    assert "1 E-Mail wartet auf Zuordnung" in inbox
    page = coordinator.get("/de/staff/mailbox").get_data(as_text=True)
    assert "5.1.1 user unknown" in page and "STRAY-TEXT" in page and reference in page
    mail_id = match_in(r"/mailbox/(\d+)/file", page).group(1)
    token = match_in(rf'name="file{mail_id}-csrf_token" type="hidden" value="([^"]+)"', page)
    response = coordinator.post(
        f"/de/staff/mailbox/{mail_id}/file",
        data={
            f"file{mail_id}-csrf_token": token.group(1),
            f"file{mail_id}-reference": "SD-1999-00001",
        },
    )
    assert response.status_code == 400
    assert "Eine Anfrage mit dieser Nummer gibt es nicht." in response.get_data(as_text=True)
    coordinator.post(
        f"/de/staff/mailbox/{mail_id}/file",
        data={f"file{mail_id}-csrf_token": token.group(1), f"file{mail_id}-reference": reference},
    )
    assert "STRAY-TEXT" in coordinator.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    assert "STRAY-TEXT" not in coordinator.get("/de/staff/mailbox").get_data(as_text=True)
    caseworker = _staff(app, "anna@example.org", "shs")
    assert caseworker.get("/de/staff/mailbox").status_code == 403


@pytest.mark.full_database
def test_two_colleagues_taking_at_the_same_moment_give_one_taker(
    app: Flask, client: FlaskClient
) -> None:
    import threading

    from portal.models import StaffUser
    from portal.services import workflow
    from portal.services.errors import AlreadyTaken

    reference = _reference(client)
    for email in ("anna@example.org", "bea@example.org", "cem@example.org"):
        make_staff(app, email, "shs")
    outcomes: list[str] = []
    start = threading.Barrier(3)

    def take(email: str) -> None:
        # All three start together; on SQLite the first write lock queues the others, on
        # PostgreSQL all three read "untaken" before anyone writes.
        start.wait()
        with get_db(app).sessions() as session:
            actor = session.scalars(select(StaffUser).where(StaffUser.email == email)).one()
            found = session.scalars(
                select(HelpRequest).where(HelpRequest.reference == reference)
            ).one()
            try:
                workflow.take(session, found, actor, utcnow())
                session.commit()
                outcomes.append("took")
            except AlreadyTaken:
                session.rollback()
                outcomes.append("refused")

    threads = [
        threading.Thread(target=take, args=(email,))
        for email in ("anna@example.org", "bea@example.org", "cem@example.org")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "refused", "took"]
    stored = _stored(app)
    assert [e.kind for e in stored.events].count("taken") == 1 and stored.assignee_id


def test_the_inbox_shows_open_requests_and_finds_closed_ones_by_filter(
    app: Flask, client: FlaskClient
) -> None:
    closed = _reference(client)
    open_one = _reference(app.test_client())
    staff_client = _staff(app, "anna@example.org", "shs")
    _step(staff_client, closed, "close", {"outcome": "helped"})
    _step(staff_client, open_one, "take")
    inbox = staff_client.get("/de/staff/").get_data(as_text=True)
    assert open_one in inbox and closed not in inbox
    mine = staff_client.get("/de/staff/?assignee=me").get_data(as_text=True)
    assert open_one in mine
    assert open_one not in staff_client.get("/de/staff/?assignee=nobody").get_data(as_text=True)
    finished = staff_client.get("/de/staff/?status=closed").get_data(as_text=True)
    assert closed in finished and open_one not in finished


def test_proposed_slots_reach_the_resident_in_their_language(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    seed_schedule(app)
    reference = _reference(client, lang="de")
    staff_client = _staff(app, "anna@example.org", "shs")
    page = staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    offered = re.findall(r'name="propose-slots" value="([^"]+)"', page)
    assert len(offered) >= 4
    response = _step(staff_client, reference, "propose", {"slots": offered[:4]})
    assert response.status_code == 400
    assert "Bitte wählen Sie einen bis drei Termine." in response.get_data(as_text=True)
    assert _step(staff_client, reference, "propose", {"slots": offered[:2]}).status_code == 302
    stored = _stored(app)
    message = stored.events[-1]
    assert message.kind == "staff_message" and message.public
    assert "Wir schlagen Ihnen diese Termine vor:" in message.text
    assert message.text.count("\n– ") == 2 and stored.waiting_for == "resident"
    deliver(app)
    assert any("Neue Nachricht" in str(m["Subject"]) for m in mailbox.to("elif@example.org"))
