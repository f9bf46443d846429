"""What encryption at rest costs: a help-request submission and the staff request list.

In process (Flask test client, SQLite in a temporary folder), so that only the portal's own
work is timed: the final POST that submits a request (``RUNS`` times), then the staff inbox
of a coordinator with ``REQUESTS`` stored requests (``RUNS`` times). Times are CPU time of this
process (SQLite runs in it), which other load on a shared machine disturbs far less than wall
time. Prints the median and the spread (10th and 90th percentile, min, max) in milliseconds,
and, where the portal has it, the cost of encrypting and decrypting one value. Run it from a checkout's root:
``PYTHONPATH=. .venv/bin/python scripts/bench_encryption.py``; run it on two commits to compare.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

REQUESTS = 500
RUNS = 40


def _spread(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    deciles = statistics.quantiles(ms, n=10)
    print(
        f"{label:28} median {statistics.median(ms):7.2f} ms   p10 {deciles[0]:7.2f}   "
        f"p90 {deciles[-1]:7.2f}   min {ms[0]:7.2f}   max {ms[-1]:7.2f}   (n={len(ms)})"
    )


def _app(folder: Path) -> Any:
    from portal import create_app, migrate
    from portal.config import settings_of
    from portal.db import get_db
    from portal.services import schedule, towns

    app = create_app(
        {
            "instance_path": str(folder / "instance"),
            "secret_key": "bench-secret-key-that-is-long-enough-0123456789",
            "testing": True,
            "database_url": f"sqlite:///{folder / 'bench.sqlite'}",
            "public_url": "http://portal.test",
            "ratelimit_disabled": True,
            "mail_port": 9,  # nothing listens: emails stay in the outbox
        }
    )
    migrate.upgrade(get_db(app).engine)
    with get_db(app).session() as session:
        facts = settings_of(app).towns()
        towns.seed_towns(session, facts)
        schedule.seed_locations(session, facts)
    return app


def _submissions(app: Any) -> list[float]:
    from tests.conftest import answer_all, submit

    timings = []
    for _ in range(RUNS):
        client = app.test_client()
        answer_all(client)
        started = time.process_time()
        response = submit(client)
        timings.append(time.process_time() - started)
        assert response.status_code == 302, response.status_code
    return timings


def _fill(app: Any, count: int) -> None:
    from portal.db import get_db
    from portal.models import HelpRequest, Town

    with get_db(app).session() as session:
        town_ids = [town.id for town in session.query(Town)]
        for number in range(count):
            session.add(
                HelpRequest(
                    reference=f"SD-2025-{number + 1:05d}",
                    town_id=town_ids[number % len(town_ids)],
                    respond_by=date(2026, 12, 4),
                    locale="de",
                    need_text=f"Ich brauche Hilfe beim Antrag Nummer {number}. " * 8,
                    urgency="normal",
                    contact_method="callback",
                    requester_name=f"Person {number}",
                    phone="05246 123456",
                    email=f"person{number}@example.org",
                    street="Am Markt 1",
                    postcode="33415",
                    city="Verl",
                    status_token_hash=f"{number:064d}",
                )
            )


def _staff_list(app: Any) -> list[float]:
    from tests.integration.test_staff import make_staff, sign_in

    secret = make_staff(app, "bench-coordinator@example.org", None, role="coordinator")
    client = app.test_client()
    sign_in(client, "bench-coordinator@example.org", secret)
    client.get("/de/staff/")  # warm up
    timings = []
    for _ in range(RUNS):
        started = time.process_time()
        response = client.get("/de/staff/?status=&town=")
        timings.append(time.process_time() - started)
        assert response.status_code == 200, response.status_code
    return timings


def _crypto_alone() -> None:
    try:
        from portal import crypto
    except ImportError:
        return
    ring = crypto.KeyRing.from_text([crypto.new_key()], crypto.new_key())
    value = "Meine Mutter kann nicht mehr allein einkaufen, bitte rufen Sie an. " * 3
    started = time.process_time()
    for _ in range(10_000):
        ring.decrypt_text(ring.encrypt_text(value))
    each = (time.process_time() - started) / 10_000 * 1_000_000
    print(f"encrypt + decrypt one value  {each:7.1f} µs ({len(value)} characters)")


def main() -> None:
    """Time both, print the figures."""
    import portal

    print(f"portal from {Path(portal.__file__).parent}")
    with tempfile.TemporaryDirectory() as folder:
        app = _app(Path(folder))
        submissions = _submissions(app)
        _fill(app, REQUESTS - RUNS)
        _spread("submission (POST check)", submissions)
        _spread(f"staff list, {REQUESTS} requests", _staff_list(app))
    _crypto_alone()


if __name__ == "__main__":
    sys.exit(main())
