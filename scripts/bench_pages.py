"""Public pages against the honest ceiling: the portal and a bare WSGI app serving the same bytes.

Both run under gunicorn in the same configuration (2 workers × 4 threads, ``bench_submit``), on
SQLite with the demo catalogue. The bare app answers each address with the exact body and
headers the portal sent for it (fetched from the portal first), so the ratio of the two request
rates is what the portal's own work costs. ``wrk`` (Debian's package) drives each with 8
connections for a few seconds per page, in several rounds that alternate bare and portal, so
load from elsewhere on the machine hits both alike. Prints requests/s of both (median and
range over the rounds), the ratio, and for pages that are the same for everyone whether it
reaches the target of 0.5.

    .venv/bin/python scripts/bench_pages.py
    BENCH_PAGE_SECONDS=5 BENCH_PAGE_ROUNDS=5 …   # longer, for a quiet machine
    BENCH_PAGE_ONLY="home,api services" …          # some of the pages (names as printed)

The bare app (``bare`` below) is this module too: gunicorn imports it with ``--pythonpath``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

SECONDS = float(os.environ.get("BENCH_PAGE_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_PAGE_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
TARGET = 0.5
# Headers the server sets itself (or that describe one connection): not part of the page.
OWN_HEADERS = {"date", "connection", "transfer-encoding", "keep-alive"}
SERVICE = "{service}"
# (name, address, the same for everyone?)
PAGES = [
    ("home", "/de/", True),
    ("impressum", "/de/impressum", True),
    ("datenschutz", "/de/datenschutz", True),
    ("catalogue", "/de/catalogue/", True),
    ("topic page", "/de/catalogue/?topic=care", True),
    ("service page", f"/de/catalogue/service/{SERVICE}", True),
    ("api services", "/api/hsds/services", True),
    ("request start", "/de/request/", False),
]

_BARE: dict[str, tuple[str, list[tuple[str, str]], bytes]] = {}


def _load_bare() -> None:
    """Read the pages the bare app serves (written by ``fetch_pages``)."""
    with open(os.environ["BENCH_BARE_PAGES"], encoding="utf-8") as source:
        for path, page in json.load(source).items():
            body = page["body"].encode("latin-1")
            _BARE[path] = (page["status"], [tuple(h) for h in page["headers"]], body)


def bare(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The ceiling: a WSGI app that answers each address with stored bytes and headers."""
    if not _BARE:
        _load_bare()
    query = environ.get("QUERY_STRING", "")
    path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
    status, headers, body = _BARE.get(path, ("404 Not Found", [], b""))
    start_response(status, list(headers))
    return [body]


def fetch_pages(base: str, paths: list[str]) -> dict[str, dict[str, Any]]:
    """Each page as the portal sends it to a visitor without cookies: status, headers, body."""
    pages = {}
    for path in paths:
        with urllib.request.urlopen(base + path, timeout=30) as answer:
            body = answer.read()
            headers = [
                (name, value)
                for name, value in answer.getheaders()
                if name.lower() not in OWN_HEADERS
            ]
            pages[path] = {
                "status": f"{answer.status} {answer.reason}",
                "headers": headers,
                "body": body.decode("latin-1"),
            }
    return pages


def wrk(url: str, seconds: float) -> float:
    """Requests per second ``wrk`` reached on ``url``; fails on answers other than 2xx.

    Socket errors (a time-out on a machine under load) are printed, not fatal.
    """
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds:g}s", url],
        capture_output=True,
        text=True,
        check=True,
    )
    wrong = re.search(r"Non-2xx or 3xx responses: \d+", result.stdout)
    if wrong:
        raise RuntimeError(f"wrk on {url}: {wrong.group(0)}")
    errors = re.search(r"Socket errors: .*", result.stdout)
    if errors:
        print(f"  note: {url}: {errors.group(0)}", file=sys.stderr)
    found = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if not found:
        raise RuntimeError(f"wrk printed no rate for {url}: {result.stdout}")
    return float(found.group(1))


def _first_service(base: str) -> str:
    with urllib.request.urlopen(base + "/api/hsds/services?per_page=1", timeout=30) as answer:
        return str(json.load(answer)["contents"][0]["id"])


def _prepare(instance: Path, env: dict[str, str]) -> None:
    from bench_submit import run_flask

    run_flask(env, "db", "upgrade")
    run_flask(
        env, "catalogue", "import", str(ROOT / "portal" / "data" / "demo-catalogue.hsds.json")
    )


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.0f} ({min(values):.0f}–{max(values):.0f})"


def measure(portal: str, bare_base: str, paths: list[str]) -> dict[str, tuple[list, list]]:
    """Rounds of wrk over every page, alternating which server goes first."""
    for path in paths:  # warm up: every worker renders (and keeps) its pages
        wrk(portal + path, 1)
        wrk(bare_base + path, 1)
    rates: dict[str, tuple[list[float], list[float]]] = {path: ([], []) for path in paths}
    for number in range(ROUNDS):
        for path in paths:
            order = [(0, bare_base), (1, portal)]
            for slot, base in order if number % 2 == 0 else reversed(order):
                rates[path][slot].append(wrk(base + path, SECONDS))
    return rates


def report(rates: dict[str, tuple[list, list]], names: dict[str, tuple[str, bool]]) -> bool:
    """Print the table; whether every page that is the same for everyone reached the target."""
    print(
        f"\npublic pages vs. a bare WSGI app with the same bytes (gunicorn 2 workers × 4 threads, "
        f"wrk {CONNECTIONS} connections, {ROUNDS} rounds × {SECONDS:g} s, CPUs: {os.cpu_count()})"
    )
    print(f"{'page':<16} {'bare req/s (range)':>22} {'portal req/s (range)':>22}  ratio (range)")
    passed = True
    for path, (bare_rates, portal_rates) in rates.items():
        name, cacheable = names[path]
        ratios = [p / b for b, p in zip(bare_rates, portal_rates, strict=True)]
        ratio = statistics.median(ratios)
        verdict = ("pass" if ratio >= TARGET else "FAIL") if cacheable else "(never cached)"
        passed = passed and (ratio >= TARGET or not cacheable)
        print(
            f"{name:<16} {_spread(bare_rates):>22} {_spread(portal_rates):>22}  "
            f"{ratio:.2f} ({min(ratios):.2f}–{max(ratios):.2f}) {verdict}"
        )
    print(f"target: at least {TARGET} of the bare app for pages that are the same for everyone")
    return passed


def main() -> int:
    """Set up, serve both, measure, print."""
    from bench_submit import free_port, portal_env, start_gunicorn, wait_for

    if shutil.which("wrk") is None:
        print("wrk is missing: sudo apt-get install wrk (make bench installs it)")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        portal_port, bare_port = free_port(), free_port()
        env = portal_env(
            instance,
            f"sqlite:///{instance}/bench.sqlite",
            public_url=f"http://127.0.0.1:{portal_port}",
        )
        _prepare(instance, env)
        servers = [start_gunicorn(portal_port, env)]
        try:
            portal = f"http://127.0.0.1:{portal_port}"
            wait_for(portal + "/de/")
            service = _first_service(portal)
            only = [n for n in os.environ.get("BENCH_PAGE_ONLY", "").split(",") if n]
            names = {
                path.replace(SERVICE, service): (n, c)
                for n, path, c in PAGES
                if not only or n in only
            }
            pages_file = instance / "pages.json"
            pages_file.write_text(json.dumps(fetch_pages(portal, list(names))), "utf-8")
            bare_env = {**env, "BENCH_BARE_PAGES": str(pages_file)}
            scripts = str(ROOT / "scripts")
            servers.append(
                start_gunicorn(bare_port, bare_env, "bench_pages:bare", "--pythonpath", scripts)
            )
            bare_base = f"http://127.0.0.1:{bare_port}"
            wait_for(bare_base + next(iter(names)))
            passed = report(measure(portal, bare_base, list(names)), names)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
