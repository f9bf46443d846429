"""Booking a consultation end to end: pages in several languages, storage, emails, .ics."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from typing import cast

import icalendar
import pytest
from babel.dates import format_date as babel_date
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.db import get_db
from portal.i18n import LOCALE_CODES, html_lang_of
from portal.models import Booking, HelpRequest, RequestDraft, utcnow
from portal.services import slots
from tests.booking_support import (
    confirm,
    manage_path,
    post_here,
    seed_schedule,
    slot_keys,
    walk_booking,
)
from tests.conftest import (
    Mailbox,
    answer_all,
    check_easy_read_page,
    csrf_token,
    deliver,
    post_form,
    submit,
)
from tests.expect import body_of, match_in, present

SECRETS = ("Karl", "Schmidt", "GEHEIME", "Pflegegrad", "anna@example.org", "Anna")


@pytest.fixture(autouse=True)
def _schedule(app: Flask) -> None:
    seed_schedule(app)


def _bookings(app: Flask) -> list[Booking]:
    with get_db(app).session() as session:
        return list(session.scalars(select(Booking).order_by(Booking.id)))


def _count(app: Flask, model: type) -> int:
    with get_db(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _calendar(message: EmailMessage) -> icalendar.Calendar:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "termin-soziales-duo.ics"
    return icalendar.Calendar.from_ical(cast(bytes, part.get_payload(decode=True)))


def _event(calendar: icalendar.Calendar) -> icalendar.Event:
    [event] = calendar.walk("VEVENT")
    assert isinstance(event, icalendar.Event)
    return event


def test_a_daughter_books_for_her_father_in_turkish_and_gets_the_appointment(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    key = walk_booking(client, "tr")
    response = confirm(client, "tr")
    assert response.headers["Location"].endswith("/tr/booking/done")
    done = client.get("/tr/booking/done").get_data(as_text=True)
    assert '<html lang="tr" dir="ltr">' in done
    reference = match_in(r"SD-\d{4}-\d{5}", done).group(0)
    start = slots.parse_slot_key(key)
    local = start.astimezone(slots.BERLIN)
    assert babel_date(local.date(), "full", locale="tr") in done
    assert "Karl Schmidt" in done and "Paderborner" in done
    assert "/tr/booking/done/termin.ics" in done

    [booking] = _bookings(app)
    assert booking.status == "active" and booking.slot_start == start
    assert booking.on_behalf and booking.subject_name == "Karl Schmidt"
    with get_db(app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        assert request.reference == reference and request.locale == "tr"
        assert request.status == "received" and request.town.slug == "verl"
        assert request.contact_method == "office_verl" and request.on_behalf

    assert deliver(app).sent == 2
    [staff] = mailbox.to("soziales-duo-verl@example.org")
    assert staff["Subject"].startswith(f"[{reference}] Neuer Termin · Verl · ")
    assert f"{local:%H:%M}" in staff["Subject"]
    staff_text = body_of(staff, "plain")
    assert "Rathaus Verl" in staff_text and "für eine andere Person" in staff_text
    assert f"http://portal.test/de/staff/requests/{reference}" in staff_text
    assert not list(staff.iter_attachments())
    for secret in SECRETS:
        assert secret not in staff.as_string(), f"{secret} reached the staff inbox"

    [confirmation] = mailbox.to("anna@example.org")
    assert reference in confirmation["Subject"]
    text = body_of(confirmation, "plain")
    assert "Karl Schmidt" in text and "GEHEIME" not in confirmation.as_string()
    calendar = _calendar(confirmation)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Berlin"
    event = _event(calendar)
    assert event.decoded("DTSTART") == local
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Berlin"
    assert event.decoded("DTEND") == local + timedelta(minutes=30)
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert str(event["UID"]).startswith(booking.uid) and int(str(event["SEQUENCE"])) == 0
    assert "Paderborner Straße 5" in str(event["LOCATION"])
    assert "Karl Schmidt" in str(event["SUMMARY"])
    assert manage_path(str(event["DESCRIPTION"])).startswith("/tr/booking/manage/")


def test_the_download_is_a_calendar_file_and_needs_no_personal_data_in_the_url(
    app: Flask, client: FlaskClient
) -> None:
    walk_booking(client, "ar", on_behalf=False)
    confirm(client, "ar")
    done = client.get("/ar/booking/done").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in done
    response = client.get("/ar/booking/done/termin.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert 'filename="termin-soziales-duo.ics"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    event = _event(icalendar.Calendar.from_ical(response.data))
    assert event.decoded("DTSTART") == _bookings(app)[0].slot_start.astimezone(slots.BERLIN)
    stranger = app.test_client()
    assert stranger.get("/ar/booking/done/termin.ics").status_code == 404
    assert stranger.get("/ar/booking/manage/termin.ics").status_code == 404
    assert stranger.get("/ar/booking/manage/not-a-token").status_code == 404


def test_a_relative_moves_and_then_cancels_through_the_private_link(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    first_key = walk_booking(client, "uk")
    confirm(client, "uk")
    link = manage_path(client.get("/uk/booking/done").get_data(as_text=True))
    deliver(app)
    relative = app.test_client()  # later, on another device, from the email
    opened = relative.get(link)
    assert opened.status_code == 302 and opened.headers["Location"] == "/uk/booking/manage"
    page = relative.get("/uk/booking/manage")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"

    offered = slot_keys(relative, "/uk/booking/manage/move")
    assert first_key not in offered
    new_key = offered[2]
    chosen = post_here(relative, "/uk/booking/manage/move", {"slot": new_key})
    assert chosen.headers["Location"] == "/uk/booking/manage/move/confirm"
    assert len(_bookings(app)) == 1, "choosing alone changes nothing"
    moved = post_here(relative, "/uk/booking/manage/move/confirm")
    assert moved.headers["Location"] == "/uk/booking/manage"
    old, new = _bookings(app)
    assert (old.status, new.status) == ("moved", "active")
    assert new.uid == old.uid and new.sequence == 1 and new.replaces_id == old.id
    assert new.slot_start == slots.parse_slot_key(new_key)
    assert first_key in slot_keys(relative, "/uk/booking/manage/move"), "the old time is free again"

    deliver(app)
    staff_moved = [
        m for m in mailbox.to("soziales-duo-verl@example.org") if "verschoben" in m["Subject"]
    ]
    assert len(staff_moved) == 1
    booker = mailbox.to("anna@example.org")
    assert len(booker) == 2
    moved_event = _event(_calendar(booker[-1]))
    assert int(str(moved_event["SEQUENCE"])) == 1
    assert str(moved_event["UID"]).startswith(old.uid)
    assert moved_event.decoded("DTSTART") == new.slot_start.astimezone(slots.BERLIN)
    assert manage_path(str(moved_event["DESCRIPTION"])) == link, "the link keeps working"

    assert relative.get("/uk/booking/manage/cancel").status_code == 200
    assert _bookings(app)[-1].status == "active", "the confirmation page changes nothing"
    cancelled = post_here(relative, "/uk/booking/manage/cancel")
    assert cancelled.headers["Location"] == "/uk/booking/manage"
    assert [b.status for b in _bookings(app)] == ["moved", "cancelled"]
    with get_db(app).session() as session:
        location = present(slots.location_by_code(session, "verl"))
        free = slots.free_slots(session, location, utcnow(), slots.Policy())
        assert new.slot_start in {slot.start for slot in free}, "cancelling frees the slot"
    deliver(app)
    staff_cancel = [
        m for m in mailbox.to("soziales-duo-verl@example.org") if "abgesagt" in m["Subject"]
    ]
    assert len(staff_cancel) == 1
    cancel_calendar = _calendar(mailbox.to("anna@example.org")[-1])
    assert str(cancel_calendar["METHOD"]) == "CANCEL"
    assert str(_event(cancel_calendar)["STATUS"]) == "CANCELLED"
    for message in staff_moved + staff_cancel:
        for secret in SECRETS:
            assert secret not in message.as_string()

    again = relative.get(link)  # the link still opens the (now cancelled) booking
    assert again.status_code == 302
    assert relative.get("/uk/booking/manage/cancel").headers["Location"] == "/uk/booking/manage"
    with get_db(app).session() as session:
        assert session.scalars(select(HelpRequest)).one().status == "received"


def test_the_loser_of_a_slot_is_told_kindly_and_offered_the_next_free_slots(
    app: Flask, client: FlaskClient
) -> None:
    other = app.test_client()
    key = walk_booking(client, "ru")
    walk_booking(other, "ru", slot=key, details={"name": "Boris", "phone": "05246 123456"})
    assert confirm(client, "ru").headers["Location"].endswith("/ru/booking/done")
    lost = confirm(other, "ru")
    assert lost.status_code == 302 and lost.headers["Location"] == "/ru/booking/taken"
    page = other.get("/ru/booking/taken")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="ru" dir="ltr">' in html
    offered = re.findall(r'name="slot" value="([^"]+)"', html)
    assert 1 <= len(offered) <= 5 and key not in offered
    assert len(_bookings(app)) == 1
    with get_db(app).session() as session:
        assert _count(app, HelpRequest) == 1
        answers = [d.answers for d in session.scalars(select(RequestDraft)) if d.answers]
    assert answers and answers[0]["name"] == "Boris" and "slot" not in answers[0]
    token = match_in(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    picked = other.post("/ru/booking/slot?change=1", data={"slot": offered[0], "csrf_token": token})
    assert picked.headers["Location"] == "/ru/booking/check"
    assert confirm(other, "ru").headers["Location"].endswith("/ru/booking/done")
    assert sorted(b.slot_start for b in _bookings(app)) == sorted(
        slots.parse_slot_key(k) for k in (key, offered[0])
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("20261301T0800Z", "Diesen Termin gibt es nicht"),
        ("<script>", "Diesen Termin gibt es nicht"),
        ("20200106T0800Z", "schon vorbei oder beginnt zu bald"),
        ("PAST", "schon vorbei oder beginnt zu bald"),
        ("OFF_HOURS", "keine Sprechstunde"),
        ("HOLIDAY", "keine Sprechstunde"),
    ],
)
def test_tampered_past_and_off_hours_slots_get_a_clear_message_and_change_nothing(
    app: Flask, client: FlaskClient, key: str, message: str
) -> None:
    chosen = walk_booking(client, "de")
    start = slots.parse_slot_key(chosen)
    key = {
        "PAST": slots.slot_key(start - timedelta(days=400)),
        "OFF_HOURS": slots.slot_key(start + timedelta(minutes=10)),
        "HOLIDAY": "20261225T1300Z",  # Christmas Day, a Friday: no hours anywhere
    }.get(key, key)
    response = post_form(client, "/de/booking/slot?change=1", {"slot": key})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error-summary"' in html and message in html and "<title>Fehler:" in html
    with get_db(app).session() as session:
        [draft] = session.scalars(select(RequestDraft)).all()
        assert draft.answers["slot"] == chosen
    assert _count(app, Booking) == 0


def test_a_double_submit_books_once(app: Flask, client: FlaskClient) -> None:
    walk_booking(client, "de")
    token = match_in(
        r'name="csrf_token" type="hidden" value="([^"]+)"',
        client.get("/de/booking/check").get_data(as_text=True),
    ).group(1)
    first = client.post("/de/booking/check", data={"consent": "y", "csrf_token": token})
    second = client.post("/de/booking/check", data={"consent": "y", "csrf_token": token})
    assert first.headers["Location"] == second.headers["Location"] == "/de/booking/done"
    assert _count(app, Booking) == 1 and _count(app, HelpRequest) == 1


def test_a_booker_whose_confirmation_was_lost_books_again_and_sees_the_same_appointment(
    app: Flask, client: FlaskClient
) -> None:
    """The app server stored the booking and died before answering: the browser kept its old
    cookie, and the booker presses "book" again."""
    walk_booking(client, "de")
    token = match_in(
        r'name="csrf_token" type="hidden" value="([^"]+)"',
        client.get("/de/booking/check").get_data(as_text=True),
    ).group(1)
    cookie = client.get_cookie("portal")
    assert cookie is not None
    client.post("/de/booking/check", data={"consent": "y", "csrf_token": token})
    first = client.get("/de/booking/done").get_data(as_text=True)
    manage_link = match_in(r'(http://portal\.test/de/booking/manage/[^"<\s]+)', first).group(1)
    client.set_cookie("portal", cookie.value)  # the answer that carried the new cookie was lost
    again = client.post("/de/booking/check", data={"consent": "y", "csrf_token": token})
    assert again.headers["Location"] == "/de/booking/done"
    shown = client.get("/de/booking/done").get_data(as_text=True)
    assert (
        match_in(r'(http://portal\.test/de/booking/manage/[^"<\s]+)', shown).group(1) == manage_link
    )
    assert _count(app, Booking) == 1 and _count(app, HelpRequest) == 1
    # The link shown the second time opens the appointment.
    opened = client.get(manage_link.replace("http://portal.test", ""), follow_redirects=True)
    assert opened.status_code == 200
    assert "/de/booking/manage/cancel" in opened.get_data(as_text=True)


def test_a_phone_appointment_needs_a_phone_number(client: FlaskClient) -> None:
    post_form(client, "/pl/booking/", {})
    for step, data in [
        ("who", {"who": "me"}),
        ("town", {"town": "shs"}),
        ("location", {"location": "phone"}),
    ]:
        post_form(client, f"/pl/booking/{step}", data)
    post_form(client, "/pl/booking/slot", {"slot": slot_keys(client, "/pl/booking/slot")[0]})
    post_form(client, "/pl/booking/topic", {"topic": "benefits"})
    response = post_form(client, "/pl/booking/details", {"name": "Jan", "email": "jan@example.org"})
    html = response.get_data(as_text=True)
    assert (
        response.status_code == 200 and 'class="error-summary"' in html and 'href="#phone"' in html
    )


def test_a_home_visit_needs_the_address(client: FlaskClient) -> None:
    walk_booking(
        client,
        "ro",
        location="home",
        details={
            "name": "Ana",
            "phone": "05246 1234567",
            "street": "Am Markt 1",
            "postcode": "33415",
            "city": "Verl",
        },
    )
    check = client.get("/ro/booking/check").get_data(as_text=True)
    assert "Am Markt 1" in check
    response = post_form(
        client,
        "/ro/booking/details?change=1",
        {"name": "Ana", "phone": "05246 1234567", "street": "", "postcode": "", "city": ""},
    )
    html = response.get_data(as_text=True)
    assert (
        response.status_code == 200 and 'class="error-summary"' in html and 'href="#street"' in html
    )


def test_booking_from_a_sent_request_joins_that_request(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    answer_all(client, "de", overrides={"contact": {"contact_method": "office_shs"}})
    submit(client)
    offer = client.get("/de/request/done").get_data(as_text=True)
    assert 'action="/de/booking/?from=done"' in offer
    started = post_form(client, "/de/booking/?from=done", {})
    assert started.headers["Location"] == "/de/booking/slot"  # place and person are known
    key = slot_keys(client, "/de/booking/slot")[0]
    assert (
        post_form(client, "/de/booking/slot", {"slot": key}).headers["Location"].endswith("/topic")
    )
    post_form(client, "/de/booking/topic", {"topic": "care"})
    post_form(client, "/de/booking/details", {"name": "Elif Demir", "phone": "05207 123456"})
    assert confirm(client).headers["Location"] == "/de/booking/done"
    with get_db(app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        assert request.status == "received"
        assert [e.kind for e in request.events] == ["submitted", "booked"]
        [booking] = session.scalars(select(Booking)).all()
        assert booking.request_id == request.id and booking.location.code == "shs"
        assert booking.subject_name == "Fatma Demir"
    deliver(app)
    subjects = [m["Subject"] for m in mailbox.to("soziales-duo-shs@example.org")]
    assert any(
        "Neuer Termin · Schloß Holte-Stukenbrock" in s and request.reference in s for s in subjects
    )


@pytest.mark.parametrize("lang", LOCALE_CODES)
def test_the_slot_list_speaks_the_readers_language(client: FlaskClient, lang: str) -> None:
    response = client.get(f"/{lang}/booking/")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    post_form(client, f"/{lang}/booking/", {})
    post_form(client, f"/{lang}/booking/who", {"who": "me"})
    post_form(client, f"/{lang}/booking/town", {"town": "verl"})
    post_form(client, f"/{lang}/booking/location", {"location": "shs"})
    html = client.get(f"/{lang}/booking/slot").get_data(as_text=True)
    direction = "rtl" if lang == "ar" else "ltr"
    tag = html_lang_of(lang)  # Leichte Sprache is German: dates as in German
    assert f'<html lang="{tag}" dir="{direction}">' in html
    first = slots.parse_slot_key(match_in(r'name="slot" value="([^"]+)"', html).group(1))
    local = first.astimezone(slots.BERLIN)
    assert f"<legend>{babel_date(local.date(), 'full', locale=tag)}</legend>" in html
    assert html.count("<fieldset") >= 2


def test_booking_posts_are_rate_limited(app_config: dict) -> None:
    from portal import create_app

    app = create_app({**app_config, "ratelimit_disabled": False, "rate_limit_submit": "2 per hour"})
    client = app.test_client()
    token = csrf_token(client, "/de/booking/")
    codes = [
        client.post("/de/booking/check", data={"consent": "y", "csrf_token": token}).status_code
        for _ in range(3)
    ]
    get_db(app).engine.dispose()
    assert codes == [302, 302, 429]


def test_the_home_page_and_the_request_status_page_lead_to_booking(client: FlaskClient) -> None:
    assert 'href="/de/booking/"' in client.get("/de/").get_data(as_text=True)
    answer_all(client)
    submit(client)
    done = client.get("/de/request/done").get_data(as_text=True)
    link = match_in(r"http://portal\.test(/de/request/status/[^\"<]+)", done).group(1)
    client.get(link)
    status = client.get("/de/request/status").get_data(as_text=True)
    assert 'action="/de/booking/?from=status"' in status


def test_a_status_link_does_not_reveal_the_stored_contact_details_through_booking(
    app: Flask, client: FlaskClient
) -> None:
    """Whoever holds a status link is asked for the person and the contact details again."""
    seed_schedule(app)
    answer_all(client, "de", overrides={"contact": {"contact_method": "office_shs"}})
    submit(client)
    done = client.get("/de/request/done").get_data(as_text=True)
    link = match_in(r"http://portal\.test(/de/request/status/[^\"<]+)", done).group(1)
    holder = app.test_client()  # another browser: a forwarded email, a shared computer
    holder.get(link)
    started = post_form(holder, "/de/booking/?from=status", {})
    assert started.headers["Location"] == "/de/booking/slot"
    key = slot_keys(holder, "/de/booking/slot")[0]
    post_form(holder, "/de/booking/slot", {"slot": key})
    post_form(holder, "/de/booking/topic", {"topic": "care"})
    pages = [holder.get("/de/booking/details").get_data(as_text=True)]
    after_details = post_form(
        holder, "/de/booking/details", {"name": "Neu Eingegeben", "phone": "05207 999999"}
    )
    assert after_details.headers["Location"] == "/de/booking/check"
    assert holder.get("/de/booking/check").headers["Location"] == "/de/booking/relation"
    pages.append(holder.get("/de/booking/relation").get_data(as_text=True))
    post_form(
        holder,
        "/de/booking/relation",
        {"subject_name": "Andere Person", "relationship": "child", "authority": "consent"},
    )
    pages.append(holder.get("/de/booking/check").get_data(as_text=True))
    for page in pages:
        for stored in ("Elif Demir", "05207 123456", "elif@example.org", "Fatma Demir"):
            assert stored not in page
    assert confirm(holder).headers["Location"] == "/de/booking/done"
    with get_db(app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        booking = session.scalars(select(Booking)).one()
        assert booking.request_id == request.id and booking.booker_name == "Neu Eingegeben"
        assert request.requester_name == "Elif Demir"  # the request keeps its own details


@pytest.mark.parametrize("status", ["in_progress", "waiting"])
def test_cancelling_an_appointment_leaves_the_request_where_it_stands(
    app: Flask, client: FlaskClient, status: str
) -> None:
    """An appointment is one step of a request: its cancellation neither reopens nor resets it."""
    seed_schedule(app)
    walk_booking(client)
    confirm(client)
    client.get(manage_path(client.get("/de/booking/done").get_data(as_text=True)))
    with get_db(app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        request.status = status
        request.waiting_for = "resident" if status == "waiting" else ""
    assert post_here(client, "/de/booking/manage/cancel").status_code == 302
    with get_db(app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        assert request.status == status and request.closed_at is None
        assert [b.status for b in session.scalars(select(Booking))] == ["cancelled"]
        assert request.events[-1].kind == "booking_cancelled"


def test_booking_for_someone_who_has_not_agreed_ends_on_the_explaining_page(
    app: Flask, client: FlaskClient
) -> None:
    post_form(client, "/de/booking/", {})
    post_form(client, "/de/booking/who", {"who": "other"})
    response = post_form(
        client,
        "/de/booking/relation",
        {"subject_name": "Karl Schmidt", "relationship": "child", "authority": "no"},
    )
    assert response.headers["Location"].endswith("/de/request/permission")
    page = client.get("/de/request/permission").get_data(as_text=True)
    assert "Die Person muss einverstanden sein" in page
    assert _count(app, RequestDraft) == 0 and _count(app, Booking) == 0


def test_the_last_step_says_the_appointment_is_free_and_can_be_cancelled(
    client: FlaskClient,
) -> None:
    walk_booking(client, "de")
    html = client.get("/de/booking/check").get_data(as_text=True)
    assert "Termin festmachen" in html and "verbindlich" not in html
    assert "Er ist kostenlos. Sie können ihn später verschieben oder absagen." in html


def test_a_reader_of_leichte_sprache_books_moves_and_cancels_without_leaving_it(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    check_easy_read_page(client.get("/ls/booking/").get_data(as_text=True))
    key = walk_booking(client, "ls")
    for step in ("who", "relation", "town", "location", "slot", "topic", "details", "check"):
        page = client.get(f"/ls/booking/{step}")
        assert page.status_code == 200, step
        check_easy_read_page(page.get_data(as_text=True))
    assert confirm(client, "ls").headers["Location"].endswith("/ls/booking/done")
    done = client.get("/ls/booking/done").get_data(as_text=True)
    check_easy_read_page(done)
    start = slots.parse_slot_key(key).astimezone(slots.BERLIN)
    assert babel_date(start.date(), "full", locale="de") in done
    link = manage_path(done)
    assert link.startswith("/ls/booking/manage/")
    [booking] = _bookings(app)
    assert booking.locale == "ls" and booking.request.locale == "ls"

    assert deliver(app).sent == 2
    [mail] = mailbox.to("anna@example.org")
    assert mail["Content-Language"] == "de"
    assert '<html lang="de" dir="ltr">' in body_of(mail, "html")
    assert "http://portal.test/ls/booking/manage/" in body_of(mail, "plain")
    [staff] = mailbox.to("soziales-duo-verl@example.org")
    assert "Leichte Sprache" in body_of(staff, "plain")

    assert client.get(link).headers["Location"] == "/ls/booking/manage"
    for path in ("/ls/booking/manage", "/ls/booking/manage/move", "/ls/booking/manage/cancel"):
        check_easy_read_page(client.get(path).get_data(as_text=True))
    new_key = slot_keys(client, "/ls/booking/manage/move")[1]
    chosen = post_here(client, "/ls/booking/manage/move", {"slot": new_key})
    assert chosen.headers["Location"] == "/ls/booking/manage/move/confirm"
    check_easy_read_page(client.get("/ls/booking/manage/move/confirm").get_data(as_text=True))
    assert post_here(client, "/ls/booking/manage/move/confirm").headers["Location"] == (
        "/ls/booking/manage"
    )
    cancelled = post_here(client, "/ls/booking/manage/cancel")
    assert cancelled.headers["Location"] == "/ls/booking/manage"
    assert [b.status for b in _bookings(app)] == ["moved", "cancelled"]
    deliver(app)
    for message in mailbox.to("anna@example.org"):
        assert message["Content-Language"] == "de"
