"""CPU time per catalogue request, in process: the benchmark's mix, without HTTP or gunicorn.

CPU time, unlike latency, hardly depends on what else the machine is doing, so two commits can
be compared on a busy machine. On SQLite all the work is in this process; on PostgreSQL the
server's share is not counted (the figures then show the portal's own part).

    BENCH_CATALOGUE_DATABASE_URL=sqlite:////tmp/bench.sqlite \\
        .venv/bin/python scripts/profile_catalogue.py [ROUNDS]

The database must hold the benchmark's catalogue (``scripts/bench_catalogue.py`` generates
it; ``flask catalogue import`` loads it). ``PROFILE=30`` also prints cProfile's 30 most
expensive functions (by cumulative time) over the whole mix.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.bench_catalogue import KINDS, next_url
from scripts.bench_submit import BENCH_SECRET_KEY, percentile


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 120
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("PORTAL_INSTANCE_PATH", tmp)
        os.environ.setdefault("PORTAL_SECRET_KEY", BENCH_SECRET_KEY)
        os.environ["PORTAL_DATABASE_URL"] = os.environ["BENCH_CATALOGUE_DATABASE_URL"]
        from portal import create_app

        client = create_app().test_client()
        rng = random.Random(1000)
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        profile = cProfile.Profile() if os.environ.get("PROFILE") else None
        for n in range(rounds):
            for kind in KINDS:
                url = next_url(kind, rng, n)
                if profile:
                    profile.enable()
                started = time.process_time()
                response = client.get(url)
                times[kind].append(time.process_time() - started)
                if profile:
                    profile.disable()
                assert response.status_code == 200, url
        for kind, values in times.items():
            print(
                f"{kind:<12} n={len(values):<4} cpu p50={statistics.median(values) * 1000:6.1f}ms "
                f"p95={percentile(values, 0.95) * 1000:6.1f}ms sum={sum(values):6.2f}s"
            )
        if profile:
            stats = pstats.Stats(profile).sort_stats("cumulative")
            stats.print_stats(int(os.environ["PROFILE"]))


if __name__ == "__main__":
    main()
