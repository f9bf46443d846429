"""Retention that really deletes: a request goes with everything that belongs to it after its
period (closed or not), a booker's details go after the appointment, a sent email's body goes
within hours; the audit log keeps the reference for its own period. Time is frozen by passing
``now``; every test runs on SQLite and, with PORTAL_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update

from portal.db import get_db
from portal.mail import delivery
from portal.models import (
    AuditEntry,
    Booking,
    FigureCount,
    HelpRequest,
    InboundMail,
    OutboxMessage,
    Referral,
    RequestEvent,
    ResidentLink,
    utcnow,
)
from portal.services import retention
from tests.booking_support import confirm, seed_schedule, walk_booking
from tests.conftest import Mailbox, deliver
from tests.expect import body_of
from tests.integration.test_triage import _reference, _staff, _step

PERIODS = retention.Periods(closed_days=90, unclosed_days=365, warning_days=30, booking_days=30)
EVERYTHING: tuple[type, ...] = (
    RequestEvent,
    Referral,
    ResidentLink,
    Booking,
    OutboxMessage,
    InboundMail,
)


def _purge(
    app: Flask, days: float = 0, periods: retention.Periods = PERIODS
) -> retention.PurgeResult:
    """Run the purge as if ``days`` had passed since now."""
    with get_db(app).session() as session:
        return retention.purge(session, periods, utcnow() + timedelta(days=days))


def _count(app: Flask, model: type) -> int:
    with get_db(app).readers() as session:
        return len(session.scalars(select(model)).all())


def _closed_with_everything(app: Flask, client: FlaskClient) -> str:
    """A request with a note, a message, a referral and received mail, then closed."""
    reference = _reference(client)
    staff_client = _staff(app, "anna@example.org", "shs")
    _step(staff_client, reference, "note", {"text": "NOTIZ-PRIVAT"})
    _step(staff_client, reference, "message", {"text": "NACHRICHT-PRIVAT"})
    _step(
        staff_client,
        reference,
        "referral",
        {
            "office_name": "Pflegeberatung",
            "passed_on": "WEITERGABE-PRIVAT",
            "consent": "consent",
            "follow_up_on": (utcnow() + timedelta(days=3)).date().isoformat(),
        },
    )
    _step(staff_client, reference, "close", {"outcome": "referred"})
    with get_db(app).session() as session:
        request_id = session.scalars(select(HelpRequest.id)).one()
        session.add(
            InboundMail(
                dedupe_key="1" * 64,
                kind="resident_reply",
                raw=b"ANTWORT-PRIVAT",
                request_id=request_id,
                received_at=utcnow(),
            )
        )
    return reference


def test_a_closed_request_is_deleted_with_everything_after_its_period(
    app: Flask, client: FlaskClient
) -> None:
    reference = _closed_with_everything(app, client)
    for model in EVERYTHING[:3]:
        assert _count(app, model) > 0
    assert _purge(app, days=89).requests == 0
    assert _count(app, HelpRequest) == 1
    result = _purge(app, days=91)
    assert result.requests == 1
    assert _count(app, HelpRequest) == 0
    for model in EVERYTHING:
        if model is not OutboxMessage:
            assert _count(app, model) == 0, model
    # Emails not yet sent (here: all of them, no worker ran) still go out, without the request.
    with get_db(app).readers() as session:
        assert all(m.request_id is None for m in session.scalars(select(OutboxMessage)))
        # The audit log keeps who saw it, by reference, for its own period.
        trail = session.scalars(select(AuditEntry).where(AuditEntry.reference == reference)).all()
        assert trail and all(entry.request_id is None for entry in trail)
        kept = session.scalars(select(FigureCount).where(FigureCount.measure == "request")).one()
        assert kept.count == 1 and kept.outcome == "referred"
    # A second run at the same time changes nothing and counts nothing twice.
    again = _purge(app, days=91)
    assert (again.requests, again.bookings) == (0, 0)
    with get_db(app).readers() as session:
        assert (
            session.scalars(select(FigureCount.count).where(FigureCount.measure == "request")).one()
            == 1
        )
    # After the audit period the reference is gone too.
    _purge(app, days=91 + 366)
    assert _count(app, AuditEntry) == 0


def test_a_request_nobody_closes_is_deleted_after_its_idle_period_with_a_warning_first(
    app: Flask, client: FlaskClient
) -> None:
    reference = _reference(client)
    now = utcnow()
    with get_db(app).readers() as session:
        assert retention.expiring(session, PERIODS, now + timedelta(days=334)) == []
        [warned] = retention.expiring(session, PERIODS, now + timedelta(days=336))
        assert warned.request.reference == reference
        assert timedelta(days=364) < warned.deleted_on - now <= timedelta(days=365)
        town_id = warned.request.town_id
        assert retention.expiring(session, PERIODS, now + timedelta(days=336), [town_id + 99]) == []
    assert _purge(app, days=364).requests == 0
    # A colleague's note is activity: the year starts again from there.
    with get_db(app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        request.events.append(RequestEvent(kind="note", at=now + timedelta(days=200), text="x"))
    assert _purge(app, days=366).requests == 0
    with get_db(app).readers() as session:
        [warned] = retention.expiring(session, PERIODS, now + timedelta(days=540))
        assert warned.deleted_on == now + timedelta(days=565)
    assert _purge(app, days=566).requests == 1
    assert _count(app, HelpRequest) == 0 and _count(app, RequestEvent) == 0
    with get_db(app).readers() as session:
        kept = session.scalars(select(FigureCount).where(FigureCount.measure == "request")).one()
        assert kept.outcome == "open"


def test_the_bookers_details_go_after_the_appointment_and_the_request_lives_on(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    walk_booking(client, details={"name": "Ioana Popescu", "email": "ioana@example.org"})
    confirm(client)
    with get_db(app).readers() as session:
        booking = session.scalars(select(Booking)).one()
        days_after = (booking.slot_end - utcnow()).total_seconds() / 86400
        assert booking.booker_name and booking.token_hash and booking.consented_at
    assert _purge(app, days=days_after + 29).bookings == 0
    assert _purge(app, days=days_after + 31).bookings == 1
    with get_db(app).readers() as session:
        booking = session.scalars(select(Booking)).one()
        assert booking.cleared_at is not None and booking.token_hash is None
        for name in retention.BOOKING_PERSONAL:
            assert getattr(booking, name) == "", name
        # The appointment was activity: the request is not idle yet.
        assert session.scalars(select(HelpRequest)).one() is not None
    assert _purge(app, days=days_after + 32).bookings == 0


def test_stray_mail_goes_after_the_outbox_period(app: Flask) -> None:
    with get_db(app).session() as session:
        for days in (10, 40):
            session.add(
                InboundMail(
                    dedupe_key=f"{days:064d}",
                    kind="unmatched",
                    raw=b"x",
                    received_at=utcnow() - timedelta(days=days),
                )
            )
    _purge(app)
    with get_db(app).session() as session:
        [kept] = session.scalars(select(InboundMail)).all()
        assert kept.received_at > utcnow() - timedelta(days=30)


def test_old_audit_entries_of_an_open_request_are_kept(app: Flask, client: FlaskClient) -> None:
    reference = _reference(client)
    with get_db(app).session() as session:
        request_id = session.scalars(select(HelpRequest.id)).one()
        old = utcnow() - timedelta(days=400)
        session.add(AuditEntry(at=old, action="view", request_id=request_id, reference=reference))
        session.add(AuditEntry(at=old, action="signin"))
    assert _purge(app).audit_entries == 1
    with get_db(app).session() as session:
        assert [e.action for e in session.scalars(select(AuditEntry))] == ["view"]


def test_the_command_takes_a_frozen_time_and_the_worker_purges_by_itself(
    app: Flask, client: FlaskClient
) -> None:
    _reference(client)
    later = (utcnow() + timedelta(days=400)).isoformat()
    runner = app.test_cli_runner()
    assert (
        "--now needs a time zone"
        in runner.invoke(args=["retention", "purge", "--now", "2030-01-01T03:00"]).output
    )
    result = runner.invoke(args=["retention", "purge", "--now", later])
    assert result.exit_code == 0 and "requests deleted 1" in result.output
    # The delivery worker runs the purge when it starts (and then daily).
    _reference(client)
    with get_db(app).session() as session:
        session.execute(
            update(HelpRequest).values(
                status="closed", outcome="helped", closed_at=utcnow() - timedelta(days=100)
            )
        )
    passes: list[delivery.RunResult] = []
    delivery.work(app, interval=0, should_stop=lambda: len(passes) >= 1, on_pass=passes.append)
    assert _count(app, HelpRequest) == 0


def test_the_privacy_notice_states_the_configured_periods(app_config: dict) -> None:
    from portal import create_app

    app = create_app(
        {
            **app_config,
            "retention_days_request": 77,
            "retention_days_unclosed": 222,
            "retention_days_booking": 11,
            "retention_days_audit": 444,
            "draft_hours": 33,
        }
    )
    html = app.test_client().get("/de/datenschutz").get_data(as_text=True)
    get_db(app).engine.dispose()
    for sentence in (
        "löschen wir 77 Tage nach dem Abschluss",
        "löschen wir 222 Tage nach dem letzten Schritt",
        "löschen wir 11 Tage nach dem Termin",
        "löschen wir, sobald sie versendet ist",
        "nach 444 Tagen",
        "nach 33 Stunden",
    ):
        assert sentence in html, sentence


def test_periods_that_make_no_sense_are_refused_at_start(app_config: dict) -> None:
    import pytest

    from portal import create_app
    from portal.config import ConfigError

    for wrong in (
        {"retention_days_booking": 0},
        {"retention_warning_days": 400, "retention_days_unclosed": 365},
        {"privacy_notice_version": ""},
    ):
        with pytest.raises(ConfigError):
            create_app({**app_config, **wrong})


def test_staff_are_warned_in_the_inbox_and_the_digest_before_an_idle_request_goes(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    from portal.mail import digest as digest_mail

    reference = _reference(client)
    idle = utcnow() - timedelta(days=340)
    with get_db(app).session() as session:
        session.execute(update(HelpRequest).values(received_at=idle))
        session.execute(update(RequestEvent).values(at=idle))
    deliver(app)  # the confirmation emails, out of the way
    page = _staff(app, "anna@example.org", "shs").get("/de/staff/").get_data(as_text=True)
    warning = page[page.index("Bald gelöscht") :]
    assert reference in warning and "wird gelöscht am" in warning
    other_town = _staff(app, "vera@example.org", "verl").get("/de/staff/").get_data(as_text=True)
    assert "Bald gelöscht" not in other_town
    assert digest_mail.send_digests(app) >= 1
    deliver(app)
    [digest] = [
        m
        for m in mailbox.to("soziales-duo-shs@example.org")
        if "Tagesübersicht" in str(m["Subject"])
    ]
    text = body_of(digest, "plain")
    assert "wird bald gelöscht" in text and reference in text


def test_used_and_expired_activation_links_go(app: Flask) -> None:
    from portal.models import StaffActivation, StaffUser
    from tests.integration.test_staff import make_staff

    make_staff(app, "anna@example.org", "shs")
    with get_db(app).session() as session:
        session.execute(delete(StaffActivation))
        staff_id = session.scalars(select(StaffUser.id)).one()
        now = utcnow()
        for number, (used, expires) in enumerate(
            [(None, now + timedelta(hours=1)), (now, now + timedelta(hours=1)), (None, now)]
        ):
            session.add(
                StaffActivation(
                    token_hash=f"{number:064d}", staff_id=staff_id, used_at=used, expires_at=expires
                )
            )
    _purge(app)
    with get_db(app).readers() as session:
        assert session.scalars(select(StaffActivation.token_hash)).all() == [f"{0:064d}"]
