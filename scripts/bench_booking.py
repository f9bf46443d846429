"""Booking benchmark.

1. In-process: free slots of 3 locations over 8 weeks with 500 existing bookings; prints
   p50/p95/p99 of one full computation (all three locations), target p95 under 20 ms.
2. Over HTTP: the portal under gunicorn, 50 client processes race for 10 slots (five per
   slot, all pressing "book" at the same moment); prints bookings made, conflicts reported
   and errors. There must be exactly 10 bookings.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_submit import (
    BENCH_SECRET_KEY,
    BIN,
    ROOT,
    free_port,
    percentile,
    portal_env,
    start_gunicorn,
    wait_for,
)

LOCATIONS = ("verl", "shs", "phone")
EXISTING = 500
ROUNDS = 300
CLIENTS = 50
SLOTS = 10


def _fresh_database(url: str) -> None:
    """On PostgreSQL, start from an empty schema (SQLite files are new each run)."""
    if url.startswith("postgresql"):
        from sqlalchemy import text

        from portal.db import make_engine

        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def _app(instance: Path, url: str):  # type: ignore[no-untyped-def]
    from portal import create_app

    return create_app(
        {
            "instance_path": str(instance),
            "testing": True,
            "secret_key": BENCH_SECRET_KEY,
            "database_url": url,
        }
    )


def _seed(app) -> None:  # type: ignore[no-untyped-def]
    from portal.config import settings_of
    from portal.db import get_db
    from portal.models import utcnow
    from portal.services import schedule, slots, towns

    with get_db(app).session() as session:
        facts = settings_of(app).towns()
        towns.seed_towns(session, facts)
        schedule.seed_demo_schedule(session, facts, utcnow().astimezone(slots.BERLIN).date())


def _existing_bookings(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """500 booking rows: active ones on free slots, the rest cancelled or moved."""
    from portal.db import get_db
    from portal.models import Booking, HelpRequest, utcnow
    from portal.services import slots, towns

    rng = random.Random(4)
    now = utcnow()
    with get_db(app).session() as session:
        town = towns.all_towns(session)[0]
        request = HelpRequest(
            reference="SD-2026-99999",
            town=town,
            respond_by=now.date(),
            locale="de",
            urgency="normal",
            contact_method="callback",
            status_token_hash="bench",
        )
        session.add(request)
        session.flush()
        offered = []
        for code in LOCATIONS:
            location = slots.location_by_code(session, code)
            offered += slots.free_slots(session, location, now, slots.Policy())
        active = rng.sample(offered, min(len(offered) * 3 // 4, EXISTING))
        rows = [(slot, "active") for slot in active]
        while len(rows) < EXISTING:
            rows.append((rng.choice(offered), rng.choice(("cancelled", "moved"))))
        for number, (slot, status) in enumerate(rows):
            session.add(
                Booking(
                    uid=f"bench-{number}",
                    request_id=request.id,
                    location_id=slot.location_id,
                    slot_start=slot.start,
                    slot_end=slot.end,
                    status=status,
                    created_at=now - timedelta(days=1),
                )
            )
        return len(active), len(rows)


def bench_computation() -> None:
    from portal.db import get_db
    from portal.models import utcnow
    from portal.services import slots

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{instance}/slots.sqlite")
        _fresh_database(url)
        app = _app(instance, url)
        from portal import migrate

        migrate.upgrade(get_db(app).engine)
        _seed(app)
        active, total = _existing_bookings(app)
        timings: list[float] = []
        found = 0
        with get_db(app).session() as session:
            locations = [slots.location_by_code(session, code) for code in LOCATIONS]
            for _ in range(ROUNDS):
                started = time.perf_counter()
                found = sum(
                    len(slots.free_slots(session, loc, utcnow(), slots.Policy()))
                    for loc in locations
                    if loc is not None
                )
                timings.append(time.perf_counter() - started)
        get_db(app).engine.dispose()
    ms = [t * 1000 for t in timings]
    print(
        f"free slots, {len(LOCATIONS)} locations x 8 weeks, {total} bookings ({active} active): "
        f"{found} free; p50={statistics.median(ms):.1f}ms p95={percentile(ms, 0.95):.1f}ms "
        f"p99={percentile(ms, 0.99):.1f}ms over {ROUNDS} runs (target p95 < 20 ms)"
    )


def racer(base: str, key: str, number: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """One client: walk the booking flow for ``key``, wait for everyone, press "book".

    Each client is a different person (a phone number of its own): the portal books only
    ``BOOKINGS_PER_CONTACT`` appointments for one contact, which is not what this measures.
    """
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def post(path: str, data: dict[str, str], token: str) -> tuple[int, str]:
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        request = urllib.request.Request(base + path, data=body)
        try:
            with opener.open(request, timeout=60) as response:
                return response.status, response.url
        except urllib.error.HTTPError as error:
            return error.code, ""

    try:
        page = opener.open(base + "/de/booking/", timeout=60).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        post("/de/booking/", {}, token)
        for step, data in [
            ("who", {"who": "me"}),
            ("town", {"town": "verl"}),
            ("location", {"location": "verl"}),
            ("slot", {"slot": key}),
            ("topic", {"topic": "benefits"}),
            ("details", {"name": "Bench", "phone": f"05246 {100000 + number}"}),
        ]:
            post(f"/de/booking/{step}", data, token)
        barrier.wait(timeout=300)
        status, url = post("/de/booking/check", {"consent": "y"}, token)
    except Exception as error:
        results.put(f"error {type(error).__name__}")
        return
    if url.endswith("/booking/done"):
        results.put("booked")
    elif url.endswith("/booking/taken"):
        results.put("conflict")
    else:
        results.put(f"error {status} {url}")


def bench_race() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        port = free_port()
        url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{instance}/race.sqlite")
        env = portal_env(
            instance,
            url,
            public_url=f"http://127.0.0.1:{port}",
            rate_limit_submit="100000 per hour",
        )
        _fresh_database(url)
        flask = [str(BIN / "flask"), "--app", "portal"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT
        )
        app = _app(instance, url)
        _seed(app)
        from portal.db import get_db
        from portal.models import Booking, utcnow
        from portal.services import slots

        with get_db(app).session() as session:
            location = slots.location_by_code(session, "verl")
            keys = [s.key for s in slots.free_slots(session, location, utcnow(), slots.Policy())][
                :SLOTS
            ]
        web = start_gunicorn(port, env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/de/")
            barrier = multiprocessing.Barrier(CLIENTS)
            results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
            clients = [
                multiprocessing.Process(
                    target=racer, args=(base, keys[n % len(keys)], n, barrier, results)
                )
                for n in range(CLIENTS)
            ]
            started = time.perf_counter()
            for client in clients:
                client.start()
            outcomes = [results.get(timeout=600) for _ in clients]
            for client in clients:
                client.join(timeout=60)
            seconds = time.perf_counter() - started
        finally:
            web.send_signal(signal.SIGTERM)
            web.wait(timeout=30)
        with get_db(app).session() as session:
            from sqlalchemy import func, select

            stored = session.scalar(
                select(func.count()).select_from(Booking).where(Booking.status == "active")
            )
            per_slot = session.execute(
                select(Booking.slot_start, func.count()).group_by(Booking.slot_start)
            ).all()
        get_db(app).engine.dispose()
    booked = outcomes.count("booked")
    conflicts = outcomes.count("conflict")
    errors = [o for o in outcomes if o.startswith("error")]
    print(
        f"race over HTTP: {CLIENTS} clients for {len(keys)} slots in {seconds:.1f}s: "
        f"bookings made {booked}, conflicts reported {conflicts}, errors {len(errors)}"
        f"{' ' + str(sorted(set(errors))) if errors else ''}; stored active bookings {stored}, "
        f"most bookings on one slot {max((c for _s, c in per_slot), default=0)}"
    )
    if stored != SLOTS or booked != SLOTS:
        raise SystemExit(f"expected exactly {SLOTS} bookings")


if __name__ == "__main__":
    logging.disable(logging.INFO)  # the in-process migrations would log every step
    bench_computation()
    bench_race()
