"""Fixtures: a real database (SQLite, or PostgreSQL via PORTAL_TEST_DATABASE_URL), a real SMTP server,
the app, a client that checks every page it renders, and helpers to walk the request flow.

Most tests share one app, built once per run, and run inside a database transaction that is rolled
back when they end: the app's commits only release savepoints. A test that needs real commits (its
own app from ``app_config``, threads, other processes or connections) runs on its own app and a freshly
emptied database: it asks for ``app_config``, or carries ``@pytest.mark.full_database``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, text

from portal import create_app, migrate
from portal.config import settings_of
from portal.db import get_db, make_engine
from portal.mail import delivery
from portal.models import Base
from portal.security import limiter
from portal.services import schedule, towns
from portal.tools import mailcatcher

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
FULL_DATABASE = "full_database"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of tests that need real commits."""
    config.addinivalue_line(
        "markers",
        f"{FULL_DATABASE}: runs on its own app and an emptied database whose commits are real "
        "(threads, several connections or processes)",
    )


def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    """A test that asks for ``app_config``, or whose module or folder changes it, builds an app of
    its own: it needs real commits."""
    for item in items:
        if "app_config" in getattr(item, "fixturenames", ()) or _changes_app_config(session, item):
            item.add_marker(FULL_DATABASE)


def _changes_app_config(session: pytest.Session, item: pytest.Item) -> bool:
    """Whether the ``app_config`` that applies to ``item`` is another than the one below."""
    definitions = session._fixturemanager.getfixturedefs("app_config", item)
    if not definitions:
        return False
    return definitions[-1].func.__module__ != __name__


def needs_full_database(request: pytest.FixtureRequest) -> bool:
    """Whether this test runs outside the shared app's rolled-back transaction."""
    return request.node.get_closest_marker(FULL_DATABASE) is not None


class DatabaseState:
    """Whether the database may hold rows beyond the seed, left by a test that committed."""

    dirty = True  # migrated, not yet seeded


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database, migrated once per run."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite'}"
    )
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    engine.dispose()
    return url


class Mailbox:
    """A real aiosmtpd server on loopback and what it received."""

    def __init__(self, port: int, handler: mailcatcher.MailboxHandler) -> None:
        self.port = port
        self.handler = handler

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received so far, parsed."""
        return [
            message_from_bytes(envelope.original_content or b"", policy=policy.default)
            for envelope in self.handler.messages
        ]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages sent to ``address``."""
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Redis the rate-limit tests share counters through: PORTAL_TEST_REDIS_URL, or a
    private redis-server process for this run (Debian's package, installed by make system-deps)."""
    if os.environ.get("PORTAL_TEST_REDIS_URL"):
        yield os.environ["PORTAL_TEST_REDIS_URL"]
        return
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    uri = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield uri
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def shared_smtp_port() -> int:
    """The shared app's SMTP port; each test that wants a server starts its own on it."""
    return free_port()


@pytest.fixture
def smtp_port(request: pytest.FixtureRequest) -> int:
    """A port for the SMTP server (which may start later, to test a mail server that is down)."""
    if needs_full_database(request):
        return free_port()
    port: int = request.getfixturevalue("shared_smtp_port")
    return port


@pytest.fixture
def mailbox(smtp_port: int) -> Iterator[Mailbox]:
    """A running SMTP server that records every message."""
    controller, handler = mailcatcher.start("127.0.0.1", smtp_port)
    yield Mailbox(smtp_port, handler)
    controller.stop()


def clean(app: Flask) -> None:
    """Empty the database of ``app`` and seed its towns and locations from its settings."""
    database = get_db(app)
    with database.engine.begin() as connection:
        # Requests first: their audit entries may only go once the request is gone.
        connection.execute(Base.metadata.tables["help_request"].delete())
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    # Towns as configuration seeds them: what a test added or edited is gone.
    with database.session() as session:
        facts = settings_of(app).towns()
        towns.seed_towns(session, facts)
        schedule.seed_locations(session, facts)


def settings_for_tests(database_url: str, smtp_port: int, instance: Path) -> dict[str, Any]:
    """The settings of an app under test."""
    return {
        "instance_path": str(instance),
        "secret_key": TEST_SECRET,
        "testing": True,
        "database_url": database_url,
        "mail_server": "127.0.0.1",
        "mail_port": smtp_port,
        "mail_timeout": 5,
        "public_url": "http://portal.test",
        "ratelimit_disabled": True,
        # Off: tests change towns and the catalogue inside rolled-back transactions, which a
        # cache keyed by the revision cannot see go back. tests/integration/test_page_cache.py
        # switches it on for apps of their own.
        "page_cache_uri": "",
    }


@pytest.fixture
def app_config(database_url: str, smtp_port: int, tmp_path: Path) -> dict[str, Any]:
    """Settings for the app under test; tests may change them before ``app`` is built.

    A test using them gets an app of its own, whose commits are real.
    """
    return settings_for_tests(database_url, smtp_port, tmp_path / "instance")


@pytest.fixture(autouse=True)
def _after_real_commits(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that committed for real, the next shared test starts from an emptied
    database."""
    yield
    if needs_full_database(request):
        DatabaseState.dirty = True


@pytest.fixture(scope="session")
def shared_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shared app's database. On SQLite a file of its own, migrated once: what the tests with
    apps of their own do to theirs (servers in threads and processes, emptying it between
    examples, forty connections racing) never reaches the file the shared app keeps open. On
    PostgreSQL the test database."""
    if not database_url.startswith("sqlite"):
        return database_url
    url = f"sqlite:///{tmp_path_factory.mktemp('shared-db') / 'portal.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def shared_app(
    shared_database_url: str, shared_smtp_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """The app most tests share, built once per run."""
    instance = tmp_path_factory.mktemp("shared") / "instance"
    application = create_app(settings_for_tests(shared_database_url, shared_smtp_port, instance))
    yield application
    get_db(application).engine.dispose()


def _refuse_other_threads(connection: Connection) -> None:
    """Fail loudly when a thread other than the test's uses the test's one connection."""
    owner = threading.get_ident()

    @event.listens_for(connection, "before_cursor_execute")
    def _same_thread(*_args: Any) -> None:
        if threading.get_ident() != owner:
            raise RuntimeError(f"a test using threads needs @pytest.mark.{FULL_DATABASE}")


@contextmanager
def rolled_back(application: Flask) -> Iterator[Flask]:
    """Run a test on ``application`` inside one transaction that is rolled back at its end.

    Every session the app makes joins the transaction through a savepoint, so ``commit()`` in the
    code under test releases a savepoint and ``rollback()`` returns to it. Settings, extensions and
    the rate-limit counters are restored too, so nothing a test changes reaches the next.
    """
    database = get_db(application)
    if DatabaseState.dirty:
        clean(application)
        DatabaseState.dirty = False
    config, extensions = dict(application.config), dict(application.extensions)
    routes, loader = set(application.blueprints), application.jinja_env.loader
    # The limiter is one object for every app; the last app built set it up. The shared app
    # runs without rate limits, whatever a test with an app of its own switched on before.
    limiter.enabled = application.config["RATELIMIT_ENABLED"]
    makers = {maker: dict(maker.kw) for maker in (database.sessions, database.readers)}
    try:
        with database.engine.connect() as connection:
            _refuse_other_threads(connection)
            transaction = connection.begin()
            for maker in makers:
                maker.configure(bind=connection, join_transaction_mode="create_savepoint")
            try:
                yield application
            finally:
                transaction.rollback()
                for maker, options in makers.items():
                    maker.kw = options
                application.config.clear()
                application.config.update(config)
                application.extensions.clear()
                application.extensions.update(extensions)
                _reset_counters(application)
                if (
                    set(application.blueprints) != routes
                    or application.jinja_env.loader is not loader
                ):
                    raise RuntimeError(
                        f"a test that adds routes or templates needs @pytest.mark.{FULL_DATABASE}"
                    )
    finally:
        database.engine.dispose()  # no connection stays open between tests


def _reset_counters(application: Flask) -> None:
    """Empty the counters of the event throttle and the mail quota (the shared app's rate limits
    are off; a test that turns them on builds its own app)."""
    for name in ("portal.event_throttle", "portal.confirmation_quota"):
        application.extensions[name].strategy.storage.reset()


@pytest.fixture
def app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The portal on a database that holds only the seeded towns.

    The shared app inside a rolled-back transaction, or, for a test that needs real commits, an
    app of its own on an emptied database.
    """
    if not needs_full_database(request):
        with rolled_back(request.getfixturevalue("shared_app")) as application:
            yield application
        return
    application = create_app(request.getfixturevalue("app_config"))
    clean(application)
    yield application
    get_db(application).engine.dispose()


class CheckingClient(FlaskClient):
    """A test client that checks every HTML page it receives for the basics."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        """Send the request, then check the page if it is HTML."""
        response = super().open(*args, **kwargs)
        if response.mimetype == "text/html" and response.status_code < 300:
            check_page(response.get_data(as_text=True))
        return response


def check_page(html: str) -> None:
    """Every page has a language, a title, one h1, a main landmark and the legal links."""
    assert re.search(r'<html lang="[a-z]{2}" dir="(ltr|rtl)">', html), "html lang/dir missing"
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title and title.group(1).strip(), "page has no title"
    assert html.count("<h1") == 1, "a page needs exactly one h1"
    assert '<main id="main"' in html
    for path in ("/barrierefreiheit", 'href="/ls/"', "/datenschutz", "/impressum"):
        assert path in html, f"footer link {path} missing"
    assert "<script" not in html, "pages must work without JavaScript"


def check_easy_read_page(html: str) -> None:
    """A page in Leichte Sprache: German for the browser, its own look, the phone numbers."""
    assert '<html lang="de" dir="ltr">' in html and '<body class="easy-read">' in html
    assert '<div class="phone-line">' in html and 'href="tel:052469610"' in html
    main = html[html.index('<main id="main"') : html.index("</main>")]
    for target in re.findall(r'(?:href|action)="(/[^"]*)"', main):
        assert target.startswith("/ls/"), f"{target} leaves Leichte Sprache"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A page-checking test client with CSRF protection on, as in production."""
    app.test_client_class = CheckingClient
    return app.test_client()


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token from the form on ``url``."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(
        r'name="(?:[a-z]+-)?csrf_token" type="hidden" value="([^"]+)"', html
    ) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(
    client: FlaskClient, url: str, data: dict[str, Any], token_field: str = "csrf_token"
) -> Any:
    """GET the form, then POST it with its CSRF token."""
    return client.post(url, data={**data, token_field: csrf_token(client, url)})


FULL_ANSWERS: list[tuple[str, dict[str, Any]]] = [
    ("who", {"who": "other"}),
    ("relation", {"subject_name": "Fatma Demir", "relationship": "child", "authority": "consent"}),
    ("town", {"town": "shs"}),
    ("topics", {"topics": ["care", "transport"]}),
    ("need", {"need": "Meine Mutter kann nicht mehr allein einkaufen. GEHEIMER-TEXT"}),
    ("urgency", {"urgency": "urgent"}),
    ("contact", {"contact_method": "callback"}),
    ("times", {"contact_days": ["mon", "wed"], "contact_times": ["morning"]}),
    ("language", {"language": "tr", "interpreter": "yes"}),
    ("accessibility", {"accessibility": ["hearing"], "accessibility_note": ""}),
    ("details", {"name": "Elif Demir", "phone": "05207 123456", "email": "elif@example.org"}),
]


def answer_all(
    client: FlaskClient, lang: str = "de", overrides: dict[str, dict[str, Any]] | None = None
) -> None:
    """Start a request and answer every question."""
    response = post_form(client, f"/{lang}/request/", {})
    assert response.status_code == 302
    for step, data in FULL_ANSWERS:
        data = {**data, **(overrides or {}).get(step, {})}
        response = post_form(client, f"/{lang}/request/{step}", data)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:3000])


def submit(client: FlaskClient, lang: str = "de") -> Any:
    """Consent and send from the check page."""
    return post_form(client, f"/{lang}/request/check", {"consent": "y"})


def deliver(app: Flask) -> delivery.RunResult:
    """One pass of the delivery worker."""
    return delivery.deliver_due(app)
