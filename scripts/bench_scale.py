"""make bench-scale: the deploy/ pieces for real on one machine, with a mail outage and crashes.

nginx (Debian's package) runs deploy/nginx/soziales-duo.conf (ports, paths and a self-signed
certificate replaced) in front of two app servers started as deploy/systemd/portal-web@.service
starts them (gunicorn with deploy/gunicorn.conf.py) and two delivery workers as
portal-delivery@.service starts them, all on one fresh PostgreSQL database, rate limits in Redis.
An SMTP server in this script records every message's Message-ID.

Residents, each from an address of its own on loopback (127.0.x.y), send complete help requests
over HTTPS as a browser does. Meanwhile the SMTP server goes away for 30 seconds, one app server
is killed (SIGKILL, the whole process group) and restarted, and one delivery worker is killed and
restarted. A resident who sees an error does what a person does: tries again a moment later.
Then one address sends more requests than RATE_LIMIT_SUBMIT allows, through both app servers.

Exit 1, saying why, unless every resident got a reference, the database holds exactly the
requests that were confirmed, every queued email arrived, none arrived twice, and exactly the
rate limit's number of the one address's requests was accepted. A duplicate is only explained
(and reported as such) when it is the message the killed worker had just handed to the SMTP
server: see README, "Running it in production".

Settings (environment): BENCH_SCALE_REQUESTS (1000), BENCH_SCALE_CLIENTS (8 processes),
BENCH_POSTGRES_URL (postgresql://postgres@127.0.0.1:5432/portal_bench_scale, dropped and
created afresh), BENCH_REDIS_URL (redis://127.0.0.1:6379/13; keys under a prefix of their own).
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope  # noqa: E402

from portal.tools import deploy_local  # noqa: E402
from scripts.bench_submit import ANSWERS as SUBMIT_ANSWERS  # noqa: E402

RESIDENTS = int(os.environ.get("BENCH_SCALE_REQUESTS", "1000"))
CLIENTS = int(os.environ.get("BENCH_SCALE_CLIENTS", "8"))
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/portal_bench_scale"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
OUTAGE_SECONDS = 30.0
RATE_LIMIT = 20  # PORTAL_RATE_LIMIT_SUBMIT, the portal's default "20 per hour"
RATE_LIMIT_ATTEMPTS = RATE_LIMIT + 5
RATE_LIMIT_ADDRESS = "127.0.250.1"
RETRIES = 30  # how often a resident tries one page again before giving up
RETRY_WAIT = 1.0  # seconds a person waits before pressing again
DRAIN_TIMEOUT = 300.0
APP_SERVER_ENV = {"GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "4"}
# The help request's answers as scripts/bench_submit.py gives them, but for the contact details:
# each resident here has an address of their own.
ANSWERS = [(step, data) for step, data in SUBMIT_ANSWERS if step != "details"]
REFERENCE = re.compile(rb"SD-\d{4}-\d{5}")
CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    """A free TCP port below the range the kernel hands out to outgoing connections.

    The SMTP server and app server 1 listen again on their port after going away; a port from
    the ephemeral range could meanwhile be the local end of one of thousands of connections.
    """
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = secrets.randbelow(low - 10000) + 10000
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def resident_address(index: int) -> str:
    """The loopback address resident ``index`` sends from (Linux routes 127/8 to lo)."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


# --- the SMTP server -------------------------------------------------------------------------


@dataclass
class Received:
    """One message the SMTP server accepted."""

    message_id: str
    connection: int
    at: float


class Recorder:
    """What the SMTP server saw: messages with their connection, and when connections ended."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.closed_at: dict[int, float] = {}
        self.connections = 0
        self.live: dict[int, Any] = {}

    def opened(self, server: Any) -> int:
        """Number a new connection."""
        with self.lock:
            self.connections += 1
            self.live[self.connections] = server
            return self.connections

    def closed(self, connection: int) -> None:
        """Note when a connection ended."""
        with self.lock:
            self.closed_at[connection] = time.monotonic()
            self.live.pop(connection, None)

    async def handle_DATA(self, server: Any, _session: Any, envelope: Envelope) -> str:
        """Record the Message-ID and accept."""
        headers = BytesHeaderParser().parsebytes(envelope.original_content or b"")
        message_id = str(headers.get("Message-ID", "")).strip().strip("<>")
        with self.lock:
            self.received.append(Received(message_id, server.connection, time.monotonic()))
        return "250 Message accepted for delivery"


class RecordingSMTP(SMTP):
    """aiosmtpd's server, telling the recorder when a connection starts and ends."""

    connection = 0

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.connection = self.event_handler.opened(self)

    def connection_lost(self, error: Exception | None) -> None:
        self.event_handler.closed(self.connection)
        super().connection_lost(error)


class RecordingController(Controller):
    """A controller whose servers record connections."""

    def factory(self) -> SMTP:
        return RecordingSMTP(self.handler, **self.SMTP_kwargs)


class Sink:
    """The SMTP server, which can be taken away (port closed) and brought back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.recorder = Recorder()
        self.controller: Controller | None = None

    def start(self) -> None:
        """Listen (again)."""
        deadline = time.monotonic() + 20
        while True:
            self.controller = RecordingController(
                self.recorder, hostname="127.0.0.1", port=self.port, ready_timeout=10
            )
            try:
                self.controller.start()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        """Close the port and drop every open connection, as a server that went away does."""
        if self.controller is None:
            return
        loop = self.controller.loop
        with self.recorder.lock:
            servers = list(self.recorder.live.values())
        for server in servers:
            if server.transport is not None:
                loop.call_soon_threadsafe(server.transport.abort)
        time.sleep(0.5)
        with contextlib.suppress(Exception):
            self.controller.stop()
        self.controller = None


# --- the processes of the deployment ----------------------------------------------------------


class Processes:
    """Everything this run starts, each in a process group of its own, stopped at the end."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {}

    def start(self, name: str, argv: list[str], extra: dict[str, str] | None = None) -> None:
        """Start ``argv`` as ``name``, its output in ``<folder>/<name>.log``."""
        self.commands[name] = (argv, extra or {})
        log = (self.folder / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(
            argv,
            env={**self.env, **(extra or {})},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        """A crash: SIGKILL to the whole process group (gunicorn's master and its workers)."""
        process = self.running[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart(self, name: str) -> None:
        """Start ``name`` again as it was started first."""
        argv, extra = self.commands[name]
        self.start(name, argv, extra)

    def stop_all(self) -> None:
        """SIGTERM to every group, SIGKILL to what is still there after 15 seconds."""
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for_port(port: int, seconds: float = 60) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {seconds:.0f} s")


# --- residents --------------------------------------------------------------------------------


class GaveUp(Exception):
    """A resident tried a page too often and went away."""


@dataclass
class Outcome:
    """What one resident (or one attempt of the rate-limited address) saw."""

    index: int
    reference: str = ""
    submit_seconds: float = 0.0
    refused: bool = False  # 429: the rate limit said no
    errors: Counter[str] = field(default_factory=Counter)
    failure: str = ""


class Browser:
    """One resident's browser: an address of its own, one kept-alive TLS connection, a cookie."""

    def __init__(self, port: int, context: ssl.SSLContext, address: str, outcome: Outcome) -> None:
        self.port = port
        self.context = context
        self.address = address
        self.outcome = outcome
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPSConnection | None = None
        self.origin = f"https://127.0.0.1:{port}"
        self.page = self.origin + "/"

    def _once(self, method: str, path: str, body: bytes | None) -> tuple[int, str, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPSConnection(
                "127.0.0.1",
                self.port,
                context=self.context,
                timeout=60,
                source_address=(self.address, 0),
            )
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            # A browser names the page the form was on (Flask-WTF checks it over HTTPS).
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = self.page
            headers["Origin"] = self.origin
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.headers.get("Connection", "").lower() == "close":
            self.close()
        return response.status, response.headers.get("Location", ""), content

    def send(
        self, method: str, path: str, form: dict[str, Any] | None = None
    ) -> tuple[int, str, bytes]:
        """One click, repeated like a person would after a connection error or a 5xx page."""
        body = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        for _attempt in range(RETRIES):
            try:
                status, location, content = self._once(method, path, body)
            except (OSError, http.client.HTTPException) as error:
                self.close()
                self.outcome.errors[f"{method} {type(error).__name__}"] += 1
            else:
                if status < 500:
                    if method == "GET":
                        self.page = self.origin + path
                    return status, urllib.parse.urlsplit(location).path, content
                self.outcome.errors[f"{method} HTTP {status}"] += 1
            time.sleep(RETRY_WAIT)
        raise GaveUp(f"{method} {path}: no answer after {RETRIES} tries")

    def close(self) -> None:
        """Drop the connection (a new one is opened on the next click)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def expect(status: int, wanted: int, what: str) -> None:
    """Stop this resident when a page did not answer as the flow says."""
    if status != wanted:
        raise GaveUp(f"{what}: HTTP {status}, expected {wanted}")


def ask_for_help(browser: Browser, email: str) -> None:
    """The whole help request as a browser does it: every page, every redirect followed."""
    outcome = browser.outcome
    status, _, page = browser.send("GET", "/de/request/")
    expect(status, 200, "start page")
    found = CSRF.search(page)
    if found is None:
        raise GaveUp("no CSRF token on the start page")
    token = found.group(1).decode()
    status, location, _ = browser.send("POST", "/de/request/", {"csrf_token": token})
    expect(status, 302, "start")
    answers = [
        *ANSWERS,
        ("details", {"name": "Bench Resident", "phone": "05246 123456", "email": email}),
    ]
    for step, data in answers:
        status, _, _ = browser.send("GET", location)
        expect(status, 200, f"GET {location}")
        status, location, _ = browser.send(
            "POST", f"/de/request/{step}", {**data, "csrf_token": token}
        )
        expect(status, 302, f"answer {step}")
    status, _, _ = browser.send("GET", location)
    expect(status, 200, "check page")
    started = time.perf_counter()
    status, location, _ = browser.send(
        "POST", "/de/request/check", {"consent": "y", "csrf_token": token}
    )
    outcome.submit_seconds = time.perf_counter() - started
    if status == 429:
        outcome.refused = True
        return
    expect(status, 302, "send")
    status, _, page = browser.send("GET", location)
    expect(status, 200, "confirmation")
    reference = REFERENCE.search(page)
    if reference is None:
        raise GaveUp("no reference on the confirmation page")
    outcome.reference = reference.group(0).decode()


def run_resident(port: int, cafile: str, index: int, address: str, email: str) -> Outcome:
    """One resident from start to reference (or to giving up)."""
    context = ssl.create_default_context(cafile=cafile)
    outcome = Outcome(index)
    browser = Browser(port, context, address, outcome)
    try:
        ask_for_help(browser, email)
    except GaveUp as error:
        outcome.failure = str(error)
    finally:
        browser.close()
    return outcome


def client_process(
    port: int,
    cafile: str,
    indexes: list[int],
    results: Any,
    done: Any,
) -> None:
    """A client process: its share of the residents, one after another."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent stops it; it has nothing to clean
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops it
    for index in indexes:
        outcome = run_resident(
            port, cafile, index, resident_address(index), f"resident{index}@example.org"
        )
        results.put(outcome)
        with done.get_lock():
            done.value += 1


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Timeline:
    """When the disturbances happened (seconds since the load started)."""

    started: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str]] = field(default_factory=list)
    outage_end: float = 0.0
    outage_end_wall: float = 0.0
    worker_killed_at: float = 0.0

    def note(self, what: str) -> None:
        """Record ``what`` now."""
        self.events.append((time.monotonic() - self.started, what))


def disturb(
    sink: Sink,
    processes: Processes,
    app_ports: tuple[int, int],
    done: Any,
    clients: list[Any],
    timeline: Timeline,
) -> None:
    """The mail outage (from 15 % of the residents), a delivery worker killed while it works
    off the outage's backlog, and an app server killed at 40 % of the residents (or once the
    rest is done, should the load be over by then)."""

    def progress() -> float:
        finished = not any(client.is_alive() for client in clients)
        return 1.0 if finished else done.value / RESIDENTS

    while progress() < 0.15:
        time.sleep(0.2)
    sink.stop()
    timeline.note(f"SMTP server gone (port closed) for {OUTAGE_SECONDS:.0f} s")
    outage_ends = time.monotonic() + OUTAGE_SECONDS
    app_killed = worker_killed = False
    while not (app_killed and worker_killed):
        now = time.monotonic()
        if timeline.outage_end == 0.0 and now >= outage_ends:
            sink.start()
            timeline.outage_end, timeline.outage_end_wall = time.monotonic(), time.time()
            timeline.note("SMTP server back")
        if not app_killed and progress() >= 0.40:
            kill_app_server(processes, app_ports, timeline)
            app_killed = True
        if not worker_killed and timeline.outage_end and busy_sending(sink, timeline, now):
            kill_worker(processes, sink, timeline)
            worker_killed = True
        time.sleep(0.2)


def busy_sending(sink: Sink, timeline: Timeline, now: float) -> bool:
    """The workers are working off the outage's backlog (or two minutes have passed)."""
    recorder = sink.recorder
    with recorder.lock:
        since_back = sum(1 for r in recorder.received[-50:] if r.at > timeline.outage_end)
        talking = bool(recorder.live)
    return (talking and since_back >= 20) or now > timeline.outage_end + 120


def kill_worker(processes: Processes, sink: Sink, timeline: Timeline) -> None:
    """Crash delivery worker 1 and start it again."""
    timeline.worker_killed_at = time.monotonic()
    with sink.recorder.lock:
        talking = len(sink.recorder.live)
    processes.kill("worker-1")
    timeline.note(f"delivery worker 1 killed (SIGKILL; SMTP connections open then: {talking})")
    time.sleep(1)
    processes.restart("worker-1")
    timeline.note("delivery worker 1 restarted")


def kill_app_server(processes: Processes, app_ports: tuple[int, int], timeline: Timeline) -> None:
    """Crash app server 1 (master and workers at once) and start it again."""
    processes.kill("web-1")
    timeline.note(f"app server 1 (port {app_ports[0]}) killed (SIGKILL to its process group)")
    time.sleep(2)
    processes.restart("web-1")
    wait_for_port(app_ports[0])
    timeline.note("app server 1 restarted and listening")


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Database:
    """The run's PostgreSQL database, looked at directly."""

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urllib.parse.urlsplit(url)
        self.name = parts.path.lstrip("/")
        self.admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))

    def create(self) -> None:
        """Drop (if left over) and create the database."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        """Remove the database."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of one query."""
        import psycopg

        with psycopg.connect(self.url) as connection:
            return list(connection.execute(sql).fetchall())


def clear_redis(prefix: str) -> None:
    """Delete the run's rate-limit counters."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)


def sqlalchemy_url(url: str) -> str:
    """The psycopg URL as the portal's setting spells it."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def deployment(
    folder: Path, database: Database, smtp_port: int, prefix: str
) -> tuple[Processes, tuple[int, int], int, Path]:
    """Start nginx, two app servers and two delivery workers; return what the clients need."""
    app_ports = (free_port(), free_port())
    https_port, http_port = free_port(), free_port()
    certificate, key = deploy_local.self_signed_certificate(folder)
    site = deploy_local.LocalSite(
        folder / "nginx", http_port, https_port, app_ports, certificate, key
    )
    (folder / "nginx").mkdir()
    (folder / "nginx" / "nginx.conf").write_text(deploy_local.nginx_main(site))
    env = {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(folder / "instance"),
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_DATABASE_URL": sqlalchemy_url(database.url),
        "PORTAL_PUBLIC_URL": f"https://127.0.0.1:{https_port}",
        "PORTAL_PROXY_COUNT": "1",
        "PORTAL_RATE_LIMIT_STORAGE_URI": REDIS_URL,
        "PORTAL_RATE_LIMIT_KEY_PREFIX": prefix,
        "PORTAL_RATE_LIMIT_SUBMIT": f"{RATE_LIMIT} per hour",
        "PORTAL_MAIL_PORT": str(smtp_port),
        "PORTAL_MAIL_TIMEOUT": "5",
        **APP_SERVER_ENV,
    }
    for name in [n for n in env if n.startswith("PORTAL_TEST")]:
        del env[name]
    processes = Processes(folder, env)
    web = deploy_local.unit_command("portal-web@.service", "PORT")
    worker = deploy_local.unit_command("portal-delivery@.service", "1")
    subprocess.run(
        [*worker.argv[:-2], "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    for number, port in enumerate(app_ports, start=1):
        extra = {k: v.replace("PORT", str(port)) for k, v in web.environment.items()}
        metrics = folder / f"metrics-{port}"
        metrics.mkdir()
        extra["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)  # systemd's RuntimeDirectory
        processes.start(f"web-{number}", web.argv, extra)
    for number in (1, 2):
        processes.start(f"worker-{number}", worker.argv)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = str(folder / "nginx" / "nginx.conf")
    subprocess.run(
        [nginx, "-t", "-q", "-c", conf, "-e", str(folder / "nginx" / "error.log")], check=True
    )
    processes.start("nginx", [nginx, "-c", conf, "-e", str(folder / "nginx" / "error.log")])
    for port in (*app_ports, https_port):
        wait_for_port(port)
    return processes, app_ports, https_port, certificate


def rate_limited_address(port: int, cafile: str) -> list[Outcome]:
    """One address sends more complete requests than the limit allows, one after another."""
    return [
        run_resident(port, cafile, RESIDENTS + n, RATE_LIMIT_ADDRESS, f"limit{n}@example.org")
        for n in range(RATE_LIMIT_ATTEMPTS)
    ]


def servers_that_answered(access_log: Path, address: str, path: str) -> Counter[str]:
    """Which app servers nginx passed ``address``'s POSTs to ``path`` (from the access log)."""
    served: Counter[str] = Counter()
    for line in access_log.read_text("utf-8", "replace").splitlines():
        if line.startswith(address + " ") and f'"POST {path}"' in line:
            upstream = re.search(r"upstream=(\S+)", line)
            if upstream:
                served[upstream.group(1)] += 1
    return served


@dataclass
class Mail:
    """The emails: what the outbox holds and what arrived."""

    queued: dict[str, str]  # Message-ID -> status
    arrived: Counter[str]
    explained: list[str]


def drain(database: Database, sink: Sink) -> float:
    """Wait until nothing is left to send; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_TIMEOUT:
        waiting = database.rows(
            "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')"
        )[0][0]
        if waiting == 0:
            break
        time.sleep(1)
    time.sleep(3)  # a worker that recorded "sent" has also been answered by the server
    return time.monotonic() - started


def backlog_seconds(database: Database, sink: Sink, timeline: Timeline) -> float:
    """Seconds from the SMTP server's return until the last email queued before it arrived."""
    import datetime

    back = datetime.datetime.fromtimestamp(timeline.outage_end_wall, datetime.UTC)
    queued_before = set()
    for message_id, created in database.rows("SELECT message_id, created_at FROM outbox_message"):
        created = created if created.tzinfo else created.replace(tzinfo=datetime.UTC)
        if created <= back:
            queued_before.add(str(message_id).strip().strip("<>"))
    arrivals = [r.at for r in sink.recorder.received if r.message_id in queued_before]
    return max(arrivals, default=timeline.outage_end) - timeline.outage_end


def mail_outcome(database: Database, sink: Sink, timeline: Timeline) -> Mail:
    """Compare the outbox with what the SMTP server received."""
    queued = {
        str(message_id).strip().strip("<>"): status
        for message_id, status in database.rows("SELECT message_id, status FROM outbox_message")
    }
    recorder = sink.recorder
    arrived = Counter(received.message_id for received in recorder.received)
    explained = []
    for message_id, count in arrived.items():
        if count < 2:
            continue
        first = next(r for r in recorder.received if r.message_id == message_id)
        on_connection = [r for r in recorder.received if r.connection == first.connection]
        closed = recorder.closed_at.get(first.connection, 0.0)
        if (
            count == 2
            and on_connection[-1] is first
            and timeline.worker_killed_at <= closed <= timeline.worker_killed_at + 2
        ):
            explained.append(message_id)
    return Mail(queued, arrived, explained)


def report(
    outcomes: list[Outcome],
    limited: list[Outcome],
    load_seconds: float,
    drain_seconds: float,
    after_outage: float,
    mail: Mail,
    stored: list[str],
    served: Counter[str],
    timeline: Timeline,
) -> list[str]:
    """Print what was measured; return what was wrong."""
    problems: list[str] = []
    got = [o for o in outcomes if o.reference]
    for o in outcomes:
        if not o.reference:
            problems.append(f"resident {o.index} got no reference: {o.failure or 'refused'}")
    latencies = [o.submit_seconds for o in got]
    errors: Counter[str] = Counter()
    for o in [*outcomes, *limited]:
        errors.update(o.errors)
    accepted = [o for o in limited if o.reference]
    refused = [o for o in limited if o.refused]
    references = [o.reference for o in [*got, *accepted]]
    print(f"\nbench-scale: {RESIDENTS} residents from {CLIENTS} client processes over HTTPS")
    for at, what in timeline.events:
        print(f"  {at:7.1f} s  {what}")
    print(
        f"load: {len(got)} complete requests in {load_seconds:.1f} s "
        f"({len(got) / load_seconds:.1f} requests/s, about 24 HTTP requests each)"
    )
    if latencies:
        print(
            f"final submit: p50={statistics.median(latencies) * 1000:.0f} ms "
            f"p95={percentile(latencies, 0.95) * 1000:.0f} ms "
            f"p99={percentile(latencies, 0.99) * 1000:.0f} ms (incl. a person's retries)"
        )
    retried = sum(1 for o in outcomes if o.errors)
    print(
        f"errors seen by clients: {sum(errors.values())} "
        f"({', '.join(f'{k}: {v}' for k, v in errors.most_common()) or 'none'}); "
        f"{retried} residents pressed again after {RETRY_WAIT:.0f} s (same page, same session)"
    )
    if len(set(references)) != len(references):
        problems.append("a reference was shown to two residents")
    if sorted(stored) != sorted(references):
        problems.append(
            f"the database holds {len(stored)} requests, the residents were shown "
            f"{len(references)} references"
        )
    print(f"requests stored: {len(stored)} (shown to residents: {len(references)})")
    print(
        f"rate limit ({RATE_LIMIT} per hour) from {RATE_LIMIT_ADDRESS}: {len(accepted)} accepted, "
        f"{len(refused)} refused of {RATE_LIMIT_ATTEMPTS}; app servers that took its sends: "
        f"{dict(served)}"
    )
    if len(accepted) != RATE_LIMIT or len(refused) != RATE_LIMIT_ATTEMPTS - RATE_LIMIT:
        problems.append(f"rate limit: {len(accepted)} accepted, expected exactly {RATE_LIMIT}")
    if len(served) < 2:
        problems.append("the rate-limited address reached only one app server")
    unsent = {k: v for k, v in mail.queued.items() if v != "sent"}
    missing = [k for k in mail.queued if k not in mail.arrived]
    unknown = [k for k in mail.arrived if k not in mail.queued]
    duplicates = [k for k, count in mail.arrived.items() if count > 1]
    unexplained = [k for k in duplicates if k not in mail.explained]
    print(
        f"emails: {len(mail.queued)} queued, {sum(mail.arrived.values())} arrived, "
        f"{len(missing)} missing, {len(duplicates)} duplicated, {len(unsent)} not sent; "
        f"what was queued before the SMTP server came back arrived {after_outage:.1f} s after "
        f"it; the outbox was empty {drain_seconds:.1f} s after the load"
    )
    for message_id in mail.explained:
        print(
            f"  DUPLICATE {message_id}: the SMTP server accepted it, then its worker was killed "
            "before it recorded the delivery; sent again with the same Message-ID (README: the "
            "window no protocol closes)"
        )
    if unsent:
        problems.append(f"{len(unsent)} emails not sent: {Counter(unsent.values())}")
    if missing:
        problems.append(f"{len(missing)} queued emails never arrived")
    if unknown:
        problems.append(f"{len(unknown)} emails arrived that the outbox does not know")
    if unexplained:
        problems.append(f"{len(unexplained)} emails arrived twice: {unexplained[:5]}")
    if len(mail.queued) < 2 * len(stored):
        problems.append(f"only {len(mail.queued)} emails queued for {len(stored)} requests")
    return problems


def _interrupted(*_args: object) -> None:
    """SIGTERM stops the run like Ctrl-C: everything started is stopped."""
    raise KeyboardInterrupt


def main() -> int:
    """Run it; 0 when nothing was lost or duplicated, else 1."""
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    database = Database(POSTGRES_URL)
    prefix = f"bench-scale-{secrets.token_hex(4)}"
    sink = Sink(free_port())
    processes: Processes | None = None
    clients: list[Any] = []
    signal.signal(signal.SIGTERM, _interrupted)
    problems: list[str] = ["interrupted"]
    try:
        database.create()
        sink.start()
        processes, app_ports, https_port, certificate = deployment(
            folder, database, sink.port, prefix
        )
        cafile = str(certificate)
        # Spawned, not forked: a forked client would inherit the SMTP server's listening
        # socket and keep its port open through the outage.
        spawn = multiprocessing.get_context("spawn")
        results: Any = spawn.Queue()
        done: Any = spawn.Value("i", 0)
        clients = [
            spawn.Process(
                target=client_process,
                args=(https_port, cafile, list(range(k, RESIDENTS, CLIENTS)), results, done),
            )
            for k in range(CLIENTS)
        ]
        timeline = Timeline()
        for client in clients:
            client.start()
        chaos = threading.Thread(
            target=disturb, args=(sink, processes, app_ports, done, clients, timeline)
        )
        chaos.start()
        outcomes = [results.get(timeout=900) for _ in range(RESIDENTS)]
        load_seconds = time.monotonic() - timeline.started
        for client in clients:
            client.join()
        chaos.join()
        limited = rate_limited_address(https_port, cafile)
        drain_seconds = drain(database, sink)
        after_outage = backlog_seconds(database, sink, timeline)
        stored = [row[0] for row in database.rows("SELECT reference FROM help_request")]
        served = servers_that_answered(
            folder / "nginx" / "access.log", RATE_LIMIT_ADDRESS, "/de/request/check"
        )
        problems = report(
            sorted(outcomes, key=lambda o: o.index),
            limited,
            load_seconds,
            drain_seconds,
            after_outage,
            mail_outcome(database, sink, timeline),
            stored,
            served,
            timeline,
        )
    except KeyboardInterrupt:
        print("\nbench-scale: interrupted, stopping everything it started", file=sys.stderr)
    finally:
        for client in clients:
            if client.is_alive():
                client.terminate()
        if processes is not None:
            processes.stop_all()
        sink.stop()
        with contextlib.suppress(Exception):
            clear_redis(prefix)
        with contextlib.suppress(Exception):
            database.drop()
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems[:30]), file=sys.stderr)
        print(f"logs kept in {folder}", file=sys.stderr)
        return 1
    shutil.rmtree(folder, ignore_errors=True)
    print("\nOK: nothing lost, nothing sent twice that the README does not explain")
    return 0


if __name__ == "__main__":
    sys.exit(main())
