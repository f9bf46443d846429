"""Reminders the day before (once, never for cancelled or past bookings), and the database rule
that one slot has at most one active booking."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.db import get_db
from portal.mail.reminders import send_due_reminders
from portal.models import Booking, utcnow
from portal.services import bookings, slots
from portal.services.errors import SlotUnavailable
from tests.booking_support import confirm, seed_schedule, walk_booking
from tests.conftest import Mailbox, deliver
from tests.expect import body_of, present


@pytest.fixture(autouse=True)
def _schedule(app: Flask) -> None:
    seed_schedule(app)


def _book(client: FlaskClient, slot_index: int = 0, lang: str = "de") -> Booking:
    walk_booking(client, lang, slot_index=slot_index)
    assert confirm(client, lang).headers["Location"].endswith("/booking/done")
    return _latest(client.application)


def _latest(app: Flask) -> Booking:
    with get_db(app).session() as session:
        return present(session.scalars(select(Booking).order_by(Booking.id.desc())).first())


def _evening_before(start: datetime) -> datetime:
    """18:00 Berlin time on the day before ``start``."""
    day = start.astimezone(slots.BERLIN).date() - timedelta(days=1)
    return datetime.combine(day, time(18), tzinfo=slots.BERLIN)


def test_a_reminder_is_sent_once_the_day_before_in_the_bookers_language(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    booking = _book(client, lang="bg")
    deliver(app)
    before = len(mailbox.to("anna@example.org"))
    evening = _evening_before(booking.slot_start)
    assert send_due_reminders(app, evening - timedelta(days=1)) == 0  # two days before
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "send", "--now", evening.isoformat()])
    assert result.exit_code == 0 and "1 reminders queued" in result.output
    again = runner.invoke(args=["reminders", "send", "--now", evening.isoformat()])
    assert "0 reminders queued" in again.output
    assert send_due_reminders(app, evening + timedelta(hours=3)) == 0
    deliver(app)
    messages = mailbox.to("anna@example.org")
    assert len(messages) == before + 1
    reminder = messages[-1]
    assert booking.request.reference in reminder["Subject"]
    assert 'lang="bg"' in body_of(reminder, "html")
    assert not list(reminder.iter_attachments())
    assert _latest(app).reminder_queued_at is not None


def test_no_reminder_for_a_cancelled_or_past_booking(app: Flask, client: FlaskClient) -> None:
    cancelled = _book(client, slot_index=0)
    with get_db(app).session() as session:
        bookings.cancel_booking(session, session.get_one(Booking, cancelled.id), utcnow())
    assert send_due_reminders(app, _evening_before(cancelled.slot_start)) == 0
    other = _book(app.test_client(), slot_index=1)
    after_it = other.slot_start + timedelta(hours=1)
    assert send_due_reminders(app, after_it) == 0
    assert send_due_reminders(app, other.slot_start - timedelta(minutes=5)) == 0  # same day
    assert _latest(app).reminder_queued_at is None


def test_a_moved_booking_is_reminded_of_its_new_time(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    booking = _book(client, slot_index=0)
    assert send_due_reminders(app, _evening_before(booking.slot_start)) == 1
    with get_db(app).session() as session:
        location = present(slots.location_by_code(session, "verl"))
        later = next(
            s
            for s in slots.free_slots(session, location, utcnow(), slots.Policy())
            if s.day > booking.slot_start.astimezone(slots.BERLIN).date() + timedelta(days=1)
        )
        moved = bookings.move_booking(
            session, session.get_one(Booking, booking.id), later.start, utcnow(), slots.Policy()
        )
        moved_start = moved.slot_start
    assert send_due_reminders(app, _evening_before(moved_start)) == 1
    deliver(app)
    reminder = mailbox.to("anna@example.org")[-1]
    local = moved_start.astimezone(slots.BERLIN)
    assert f"{local:%H:%M}" in reminder["Subject"]


@pytest.mark.full_database
def test_reminders_run_in_parallel_remind_each_booking_once(
    app: Flask, client: FlaskClient
) -> None:
    booking = _book(client)
    evening = _evening_before(booking.slot_start)
    counts: list[int] = []

    def run() -> None:
        counts.append(send_due_reminders(app, evening))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 0, 0, 0, 0, 1]


def test_the_database_refuses_a_second_active_booking_of_one_slot(
    app: Flask, client: FlaskClient
) -> None:
    booking = _book(client)
    fields = {
        "uid": "other",
        "request_id": booking.request_id,
        "location_id": booking.location_id,
        "slot_start": booking.slot_start,
        "slot_end": booking.slot_end,
    }
    with pytest.raises(IntegrityError), get_db(app).session() as session:
        session.add(Booking(**fields, status="active"))
        session.flush()
    with get_db(app).session() as session:  # a cancelled one beside it is fine
        session.add(Booking(**fields, status="cancelled"))
        session.flush()
    with get_db(app).session() as session:
        assert len(session.scalars(select(Booking)).all()) == 2


def test_the_delivery_worker_queues_reminders_on_its_own(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.mail import delivery, reminders

    calls: list[Flask] = []

    def counted(sender: Flask) -> int:
        calls.append(sender)
        return 0

    monkeypatch.setattr(reminders, "send_due_reminders", counted)
    passes: list[object] = []
    delivery.work(app, interval=0, should_stop=lambda: len(passes) >= 3, on_pass=passes.append)
    assert calls == [app]  # once at start, then again only after reminder_interval


def test_staff_can_propose_and_confirm_a_slot_for_an_existing_request(
    app: Flask, client: FlaskClient
) -> None:
    from portal.models import HelpRequest
    from tests.conftest import answer_all, submit

    answer_all(client)
    submit(client)
    now = utcnow()
    with get_db(app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        location = present(slots.location_by_code(session, "shs"))
        offered = bookings.propose_slots(session, location, now, slots.Policy(), limit=3)
        assert len(offered) == 3 and offered == sorted(offered)
        booked = bookings.confirm_slot_for_request(
            session, request, location, offered[1].start, now, slots.Policy()
        )
        assert booked.created and booked.token
        assert (
            booked.booking.booker_name == "Elif Demir"
            and booked.booking.subject_name == "Fatma Demir"
        )
        assert request.status == "received" and request.events[-1].kind == "booked"
        assert bookings.booking_by_token(session, booked.token) is booked.booking
        with pytest.raises(SlotUnavailable):
            bookings.confirm_slot_for_request(
                session, request, location, offered[1].start, now, slots.Policy()
            )
        assert offered[1].start not in {
            s.start for s in bookings.propose_slots(session, location, now, slots.Policy(), 10)
        }
