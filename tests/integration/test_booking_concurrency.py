"""Twenty people reach for one slot at the same moment: exactly one gets it, on any database."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.db import get_db
from portal.models import Booking, HelpRequest, OutboxMessage
from tests.booking_support import confirm, seed_schedule, slot_keys, walk_booking

pytestmark = pytest.mark.full_database  # twenty clients at once, each on its own connection

ATTEMPTS = 20


def _counts(app: Flask) -> tuple[int, int, int]:
    with get_db(app).session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Booking)) or 0),
            int(session.scalar(select(func.count()).select_from(HelpRequest)) or 0),
            int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0),
        )


def _outcome(response: Any) -> str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.endswith("/booking/done"):
        return "booked"
    if response.status_code == 302 and location.endswith("/booking/taken"):
        return "taken"
    return f"error {response.status_code} {location}"


def test_twenty_threads_racing_for_one_slot_give_one_booking(app: Flask) -> None:
    seed_schedule(app)
    first = app.test_client()
    key = slot_keys(_started(first), "/de/booking/slot")[0]
    clients = [first] + [app.test_client() for _ in range(ATTEMPTS - 1)]
    for number, client in enumerate(clients):
        walk_booking(
            client,
            slot=key,
            details={"name": f"Person {number}", "email": f"p{number}@example.org"},
        )
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def attempt(client: Any) -> None:
        barrier.wait()
        try:
            outcomes.append(_outcome(confirm(client)))
        except Exception as error:  # pragma: no cover - reported below
            outcomes.append(f"error {type(error).__name__}")

    threads = [threading.Thread(target=attempt, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] + ["taken"] * (ATTEMPTS - 1)
    assert _counts(app) == (1, 1, 2)  # one booking, one request, its two emails


def _started(client: Any) -> Any:
    walk_booking(client)
    return client


def _racer(config: dict[str, Any], key: str, number: int, barrier: Any, results: Any) -> None:
    """One process: its own app on the same database, walks the flow, then books at once."""
    from portal import create_app

    app = create_app(config)
    client = app.test_client()
    walk_booking(client, slot=key, details={"name": f"P{number}", "phone": "05246 123456"})
    barrier.wait(timeout=120)
    results.put(_outcome(confirm(client)))
    get_db(app).engine.dispose()


def test_twenty_processes_racing_for_one_slot_give_one_booking(
    app: Flask, app_config: dict[str, Any]
) -> None:
    seed_schedule(app)
    key = slot_keys(_started(app.test_client()), "/de/booking/slot")[1]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(ATTEMPTS)
    results = context.Queue()
    processes = [
        context.Process(target=_racer, args=(app_config, key, number, barrier, results))
        for number in range(ATTEMPTS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert all(process.exitcode == 0 for process in processes)
    assert sorted(outcomes) == ["booked"] + ["taken"] * (ATTEMPTS - 1)
    assert _counts(app)[:2] == (1, 1)
