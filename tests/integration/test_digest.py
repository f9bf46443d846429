"""The daily digest: one email per town inbox and day, with references and dates, no social data."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import create_app
from portal.db import get_db
from portal.mail.digest import send_digests, send_due_digests
from portal.models import (
    Booking,
    ConsultationLocation,
    DigestRun,
    HelpRequest,
    OutboxMessage,
    Referral,
    utcnow,
)
from portal.services import digest, towns
from portal.services.slots import BERLIN
from tests.conftest import Mailbox, answer_all, deliver, submit

SHS_INBOX = "soziales-duo-shs@example.org"
VERL_INBOX = "soziales-duo-verl@example.org"
SECRETS = ("GEHEIMER-TEXT", "Demir", "5207 123456", "elif@example.org", "Hauptstraße 12")
RACERS = 4


def _submit(client: FlaskClient, town: str = "shs") -> None:
    answer_all(client, overrides={"town": {"town": town}})
    assert submit(client).headers["Location"].endswith("/de/request/done")


def _references(app: Flask) -> list[str]:
    with get_db(app).session() as session:
        return list(session.scalars(select(HelpRequest.reference).order_by(HelpRequest.id)))


def _digests(mailbox: Mailbox, address: str) -> list[EmailMessage]:
    return [m for m in mailbox.to(address) if "Tagesübersicht" in str(m["Subject"])]


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


def _prepare(app: Flask, client: FlaskClient, day: date) -> list[str]:
    """Four SHS requests (overdue, untaken, closed, with appointments) and one for Verl."""
    for town in ("shs", "shs", "shs", "shs", "verl"):
        _submit(client, town)
    deliver(app)
    refs = _references(app)
    with get_db(app).session() as session:
        rows = {r.reference: r for r in session.scalars(select(HelpRequest))}
        overdue, untaken, closed, booked = (rows[ref] for ref in refs[:4])
        for request in (overdue, closed, booked):
            request.status = "in_progress"
        overdue.respond_by = day - timedelta(days=2)
        untaken.respond_by = booked.respond_by = day + timedelta(days=2)
        closed.respond_by = day - timedelta(days=5)
        closed.status, closed.outcome = "closed", "helped"
        session.add_all(
            [
                Referral(
                    request=overdue,
                    office_name="Schuldnerberatung",
                    consent="consent",
                    follow_up_on=day,
                ),
                Referral(
                    request=closed,
                    office_name="Suchtberatung",
                    consent="consent",
                    follow_up_on=day,
                    status="accepted",
                ),
            ]
        )
        shs = towns.town_by_slug(session, "shs")
        hall = ConsultationLocation(code="t-shs", kind="in_person", town=shs, name="Rathaus")
        home = ConsultationLocation(code="t-home", kind="home_visit", name="Hausbesuch")
        session.add_all([hall, home])
        for location, start, street in (
            (hall, _at(day + timedelta(days=1), 10), ""),
            (home, _at(day, 8, 30), "Hauptstraße 12"),
            (hall, _at(day + timedelta(days=2), 10), ""),
        ):
            session.add(
                Booking(
                    uid=f"u{start:%d%H}",
                    request=booked,
                    location=location,
                    slot_start=start,
                    slot_end=start + timedelta(minutes=30),
                    street=street,
                    booker_name="Elif Demir",
                )
            )
        bounced = session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.request_id == overdue.id, OutboxMessage.recipient_index != SHS_INBOX
            )
        )
        assert bounced is not None
        bounced.status, bounced.bounced_at = "bounced", utcnow()
        failed = session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.request_id == untaken.id, OutboxMessage.recipient_index == SHS_INBOX
            )
        )
        assert failed is not None
        failed.status, failed.next_attempt_at = "failed", utcnow() - timedelta(hours=3)
    return refs


def test_the_digest_lists_each_section_with_links_and_no_social_data(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    now = utcnow()
    day = digest.local_day(now)
    overdue, untaken, closed, booked, verl = _prepare(app, client, day)
    assert send_digests(app, day=day, now=now) == 2
    assert send_digests(app, day=day, now=now) == 0
    deliver(app)
    [shs_digest] = _digests(mailbox, SHS_INBOX)
    raw = shs_digest.as_string()
    text = _text(shs_digest)
    assert "Schloß Holte-Stukenbrock" in str(shs_digest["Subject"])
    overdue_section = text.split("über die zugesagte Antwortfrist")[1].split("noch niemand")[0]
    assert overdue in overdue_section and booked not in overdue_section
    assert f"http://portal.test/de/staff/requests/{overdue}" in text
    untaken_section = text.split("noch niemand übernommen")[1].split("Weitervermittlung")[0]
    assert untaken in untaken_section and overdue not in untaken_section
    referral_section = text.split("zur Nachfrage fällig")[1].split("heute und morgen")[0]
    assert overdue in referral_section and closed not in referral_section
    appointments = text.split("heute und morgen")[1].split("nicht angekommen")[0]
    assert appointments.count(f"{booked}: http") == 2
    assert "10:00 bis 10:30 Uhr, Rathaus Schloß Holte-Stukenbrock" in appointments
    assert "08:30 bis 09:00 Uhr, Besuch zu Hause" in appointments
    undelivered = text.split("nicht angekommen")[1]
    assert f"{overdue}, an die anfragende Person, zurückgekommen" in undelivered
    assert f"{untaken}, an dieses Postfach, Zustellung gescheitert" in undelivered
    assert closed not in text and verl not in text
    for secret in (*SECRETS, "Schuldnerberatung", "Pflege", "Mobilität"):
        assert secret not in raw and secret not in text
    [verl_digest] = _digests(mailbox, VERL_INBOX)
    assert verl in _text(verl_digest) and overdue not in _text(verl_digest)


def test_nothing_pending_sends_nothing_unless_configured(
    app: Flask, app_config: dict[str, Any], mailbox: Mailbox
) -> None:
    day = date(2026, 3, 3)
    assert send_digests(app, day=day) == 0
    deliver(app)
    assert _digests(mailbox, SHS_INBOX) == []
    assert _run_count(app) == 2
    chatty = create_app({**app_config, "digest_send_empty": True})
    assert send_digests(chatty, day=day + timedelta(days=1)) == 2
    deliver(chatty)
    [message] = _digests(mailbox, SHS_INBOX)
    assert "Heute ist nichts offen" in _text(message)
    get_db(chatty).engine.dispose()


def test_the_digest_waits_for_the_hour_on_working_days(app: Flask, client: FlaskClient) -> None:
    _submit(client)
    tuesday = date(2026, 3, 3)
    assert send_due_digests(app, now=_at(tuesday, 6, 59)) == 0
    assert send_due_digests(app, now=_at(date(2026, 3, 7), 9)) == 0  # a Saturday
    assert send_due_digests(app, now=_at(date(2026, 4, 6), 9)) == 0  # Easter Monday
    assert _run_count(app) == 0
    assert send_due_digests(app, now=_at(tuesday, 7)) == 1
    assert send_due_digests(app, now=_at(tuesday, 15)) == 0
    assert _run_count(app) == 2 and _digest_rows(app) == 1


def _run_count(app: Flask) -> int:
    with get_db(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(DigestRun)) or 0)


def _digest_rows(app: Flask) -> int:
    with get_db(app).session() as session:
        query = select(func.count()).where(OutboxMessage.kind == "staff_digest")
        return int(session.scalar(query) or 0)


@pytest.mark.full_database
def test_two_threads_at_once_send_each_digest_once(app: Flask, client: FlaskClient) -> None:
    _submit(client)
    _submit(client, "verl")
    day = date(2026, 3, 3)
    barrier = threading.Barrier(RACERS)
    results: list[int | str] = []

    def race() -> None:
        barrier.wait()
        try:
            results.append(send_digests(app, day=day))
        except Exception as error:  # pragma: no cover - reported below
            results.append(type(error).__name__)

    threads = [threading.Thread(target=race) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(result, int) for result in results), results
    assert sum(int(result) for result in results) == 2
    assert _run_count(app) == 2 and _digest_rows(app) == 2


def _racer(config: dict[str, Any], day: date, barrier: Any, results: Any) -> None:
    """One process: its own app on the same database, sends the digests at once."""
    app = create_app(config)
    barrier.wait(timeout=120)
    try:
        results.put(send_digests(app, day=day))
    except Exception as error:  # pragma: no cover - reported by the parent
        results.put(type(error).__name__)
    get_db(app).engine.dispose()


def test_two_processes_at_once_send_each_digest_once(
    app: Flask, app_config: dict[str, Any], client: FlaskClient
) -> None:
    _submit(client)
    _submit(client, "verl")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(RACERS)
    results = context.Queue()
    processes = [
        context.Process(target=_racer, args=(app_config, date(2026, 3, 3), barrier, results))
        for _ in range(RACERS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert all(process.exitcode == 0 for process in processes)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sum(outcomes) == 2
    assert _run_count(app) == 2 and _digest_rows(app) == 2


def test_the_digest_command_sends_for_a_given_day_once(app: Flask, client: FlaskClient) -> None:
    _submit(client)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["digest", "send", "--day", "2026-03-03"])
    assert result.exit_code == 0 and "1 digests queued" in result.output, result.output
    result = runner.invoke(args=["digest", "send", "--day", "2026-03-03"])
    assert "0 digests queued" in result.output
    result = runner.invoke(args=["digest", "send", "--day", "3.3.2026"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
