"""Sitemap benchmark: the sitemap index and its parts at 10,000 offers, over HTTP under gunicorn.

Imports the catalogue benchmark's 10,000 services (scripts/bench_catalogue.py) into SQLite, serves
the portal with gunicorn (2 workers x 4 threads) and fetches ``/sitemap.xml`` and every part
several times, one request after another. Prints per file: addresses, size, and the time to
answer (median and slowest of the rounds); checks that every part parses and stays within the
protocol's limits (50,000 addresses, 50 MB). ``python scripts/bench_sitemap.py``.
"""

from __future__ import annotations

import signal
import statistics
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.bench_catalogue import SERVICES, generate
from scripts.bench_submit import free_port, portal_env, run_flask, start_gunicorn, wait_for

ROUNDS = 5
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_URLS = 50_000
MAX_BYTES = 50 * 1024 * 1024


def fetch(url: str) -> tuple[bytes, float]:
    """The body of ``url`` and the seconds it took."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body: bytes = response.read()
    return body, time.perf_counter() - started


def timed(url: str) -> tuple[bytes, list[float]]:
    """Fetch ``url`` :data:`ROUNDS` times; its body and every time."""
    times = []
    body = b""
    for _ in range(ROUNDS):
        body, seconds = fetch(url)
        times.append(seconds)
    return body, times


def report(name: str, body: bytes, times: list[float], count: int) -> None:
    """One line per file."""
    print(
        f"  {name:<16} {count:>6} entries {len(body) / 1024 / 1024:6.2f} MB  "
        f"median {statistics.median(times) * 1000:7.1f} ms  slowest {max(times) * 1000:7.1f} ms"
    )


def measure(base: str) -> None:
    """Fetch the index and each part; fail on a part that breaks the protocol's limits."""
    index, times = timed(base + "/sitemap.xml")
    parts = [loc.text or "" for loc in ET.fromstring(index).iter(f"{SITEMAP}loc")]
    report("sitemap.xml", index, times, len(parts))
    total = 0
    for part in parts:
        body, times = timed(part)
        count = len(ET.fromstring(body).findall(f"{SITEMAP}url"))
        total += count
        report(part.rsplit("/", 1)[1], body, times, count)
        if count > MAX_URLS or len(body) > MAX_BYTES:
            raise SystemExit(f"{part} breaks the sitemap protocol's limits")
    print(f"  {total} addresses in {len(parts)} parts")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bench-catalogue.json"
        generate(data)
        port = free_port()
        env = portal_env(
            tmp, f"sqlite:///{tmp}/bench.sqlite", public_url=f"http://127.0.0.1:{port}"
        )
        run_flask(env, "db", "upgrade")
        run_flask(env, "catalogue", "import", str(data))
        web = start_gunicorn(port, env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/sitemap.xml")
            print(f"SQLite, {SERVICES} services, gunicorn 2x4, {ROUNDS} rounds per file:")
            measure(base)
        finally:
            web.send_signal(signal.SIGTERM)
            web.wait(timeout=30)


if __name__ == "__main__":
    main()
