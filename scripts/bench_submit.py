"""Submission benchmark: the portal under gunicorn, a slow SMTP server, load from other processes.

Prints requests per second and p50/p95/p99 of the final submit (the POST that sends a request),
and how long until every email was delivered; first with an SMTP server that waits 2 s before
accepting each message, then with one that answers at once, so the two can be compared.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLIENTS = 8
SUBMISSIONS_PER_CLIENT = 6
ANSWERS = [
    ("who", {"who": "me"}),
    ("town", {"town": "verl"}),
    ("topics", {"topics": "benefits"}),
    ("need", {"need": "Ich brauche Hilfe beim Antrag auf Wohngeld."}),
    ("urgency", {"urgency": "normal"}),
    ("contact", {"contact_method": "callback"}),
    ("times", {}),
    ("language", {"language": "de", "interpreter": "no"}),
    ("accessibility", {}),
    ("details", {"name": "Bench Mark", "phone": "05246 123456"}),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def one_client(base: str, count: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Make ``count`` complete requests; report the latency of each final submit.

    Every request gives its own email address: the portal confirms to one address only a few
    times a day, and a benchmark that reused one would wait for confirmations never sent.
    """
    for _ in range(count):
        email = f"bench-{uuid.uuid4().hex[:12]}@example.org"
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def post(path: str, data: dict[str, str], token: str, opener=opener) -> str:  # type: ignore[no-untyped-def]
            body = urllib.parse.urlencode({**data, "csrf_token": token}, doseq=True).encode()
            with opener.open(base + path, data=body, timeout=30) as response:
                return response.read().decode()

        page = opener.open(base + "/de/request/", timeout=30).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        post("/de/request/", {}, token)
        for step, data in ANSWERS:
            if step == "details":
                data = {**data, "email": email}
            post(f"/de/request/{step}", data, token)
        started = time.perf_counter()
        done = post("/de/request/check", {"consent": "y"}, token)
        elapsed = time.perf_counter() - started
        assert re.search(r"SD-\d{4}-\d{5}", done), "submission failed"
        results.put(elapsed)


def start_gunicorn(
    port: int, env: dict[str, str], app: str = "portal:create_app()", *options: str
) -> subprocess.Popen[bytes]:
    """The portal (or another WSGI ``app``) under gunicorn on loopback with the production
    configuration (``deploy/gunicorn.conf.py``), 2 workers with 4 threads each. Its log (one JSON line per request, as in production) goes to a file in the
    temporary folder, named after the port, so the figures stay readable."""
    log = Path(tempfile.gettempdir()) / f"soziales-duo-bench-{port}.log"
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "-w",
            "2",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            *options,
            app,
        ],
        env=env,
        cwd=ROOT,
        stderr=log.open("wb"),
    )


def run_flask(env: dict[str, str], *arguments: str) -> None:
    """Run ``flask --app portal <arguments>`` in the checkout; its output is kept quiet."""
    subprocess.run(
        [str(BIN / "flask"), "--app", "portal", *arguments],
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


BENCH_SECRET_KEY = "bench-" + "x" * 40


def portal_env(instance: str | Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment a benchmark runs the portal's commands and servers in: this process's,
    an instance folder, a throwaway secret key, the database and ``PORTAL_<NAME>`` settings."""
    return {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_SECRET_KEY": BENCH_SECRET_KEY,
        "PORTAL_DATABASE_URL": database_url,
        **{f"PORTAL_{name.upper()}": value for name, value in settings.items()},
    }


def run(delay: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        smtp_port, web_port = free_port(), free_port()
        env = portal_env(
            instance,
            os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{instance}/bench.sqlite"),
            mail_port=str(smtp_port),
            public_url=f"http://127.0.0.1:{web_port}",
            rate_limit_submit="100000 per hour",
        )
        flask = [str(BIN / "flask"), "--app", "portal"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT
        )
        sink = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "portal.tools.mailcatcher",
                "--port",
                str(smtp_port),
                "--folder",
                str(instance / "mail"),
                "--delay",
                str(delay),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        web = start_gunicorn(web_port, env)
        worker = subprocess.Popen(
            [*flask, "outbox", "work", "--interval", "0.2"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{web_port}"
            wait_for(base + "/de/")
            results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
            started = time.perf_counter()
            clients = [
                multiprocessing.Process(
                    target=one_client, args=(base, SUBMISSIONS_PER_CLIENT, results)
                )
                for _ in range(CLIENTS)
            ]
            for client in clients:
                client.start()
            for client in clients:
                client.join(timeout=600)
            load_seconds = time.perf_counter() - started
            latencies = [results.get() for _ in range(results.qsize())]
            expected = 2 * len(latencies)
            deadline = time.monotonic() + 600
            while (
                len(list((instance / "mail").glob("*.eml"))) < expected
                and time.monotonic() < deadline
            ):
                time.sleep(0.2)
            delivered_after = time.perf_counter() - started
            delivered = len(list((instance / "mail").glob("*.eml")))
        finally:
            for process in (worker, web, sink):
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    print(
        f"smtp delay {delay:.1f}s: submissions={len(latencies)} in {load_seconds:.1f}s "
        f"({len(latencies) / load_seconds:.1f} complete requests/s, {CLIENTS} clients), submit "
        f"p50={statistics.median(latencies) * 1000:.0f}ms p95={percentile(latencies, 0.95) * 1000:.0f}ms "
        f"p99={percentile(latencies, 0.99) * 1000:.0f}ms; emails delivered {delivered}/{expected} "
        f"after {delivered_after:.1f}s"
    )


if __name__ == "__main__":
    for smtp_delay in (2.0, 0.0):
        run(smtp_delay)
