"""Engine, sessions, and the one place where a request's work is committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from . import crypto
from .config import Settings
from .models.base import PLAN_EACH_TIME

READ_ONLY = "portal_read_only"
# Blueprints whose GET requests only read. On SQLite their transactions start without taking
# the write lock, so browsing the catalogue never queues behind, or blocks, a submission.
READING_BLUEPRINTS = frozenset({"public", "catalogue", "api", "health"})


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and write-locking transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)

    @event.listens_for(engine, "do_execute")
    def _plan_each_time(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        # psycopg prepares a statement on its fifth use; PostgreSQL then settles on a generic
        # plan, which for a full-text search joins every service (7 ms instead of 1.2).
        if context.execution_options.get(PLAN_EACH_TIME):
            cursor.execute(statement, parameters, prepare=False)
            return True
        return False

    return engine


def _configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave under concurrency.

    pysqlite's own transaction handling is switched off and every transaction starts with
    ``BEGIN IMMEDIATE``: two writers then queue on the busy timeout instead of one failing
    with "database is locked" when it upgrades a read lock. This is what makes reference
    numbers and double-submit protection hold on SQLite as they do on PostgreSQL.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Reads come straight from the operating system's cache of the file: every pooled
        # connection shares it, where each would otherwise fill a page cache of its own
        # (a search in a gunicorn worker with cold connections: 15 ms instead of 11).
        cursor.execute("PRAGMA mmap_size=268435456")
        # Deleted content is overwritten, not left in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # readers never wait for writers under WAL
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class Savepoint:
    """A savepoint in ``session``'s transaction that the transaction's COMMIT ends.

    SQLAlchemy's ``Session.begin_nested`` releases its savepoint before the commit, one more
    round trip to the database. The delivery worker sets a savepoint between writing an email's
    delivery and handing the email over, where nothing but the commit may follow the SMTP
    server's answer. ``name`` is a fixed identifier of the caller, never data.
    """

    def __init__(self, session: Session, name: str) -> None:
        self.session = session
        self.name = name
        session.execute(text(f"SAVEPOINT {name}"))

    def roll_back(self, *objects: object) -> None:
        """Undo what was written since the savepoint; ``objects`` are read again as they were."""
        self.session.execute(text(f"ROLLBACK TO SAVEPOINT {self.name}"))
        for written in objects:
            self.session.expire(written)


class Database:
    """The engine and session factory of one application."""

    def __init__(self, settings: Settings, keyring: crypto.KeyRing) -> None:
        self.engine = make_engine(settings.database_url)
        self.keyring = keyring
        crypto.attach(self.engine, keyring)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        reading: dict[str, Any] = {READ_ONLY: True}
        # On PostgreSQL a reader's transaction is READ ONLY, so it may end with COMMIT (see
        # :meth:`end`).
        self.commits_reads = self.engine.dialect.name == "postgresql"
        if self.commits_reads:
            reading["postgresql_readonly"] = True
        self.readers = sessionmaker(
            self.engine.execution_options(**reading), expire_on_commit=False
        )

    def end(self, session: Session, reading: bool) -> None:
        """End ``session``'s transaction, keeping nothing it did not commit.

        A reader's READ ONLY transaction on PostgreSQL ends with COMMIT, the same as a rollback
        for a transaction that cannot write: psycopg forgets the connection's prepared
        statements on every ROLLBACK, and a search's statements are prepared (parsed and
        planned once per connection) only on their fifth use.
        """
        if reading and self.commits_reads:
            try:
                session.commit()
                return
            except SQLAlchemyError:  # the transaction failed: roll it back as any other
                pass
        session.rollback()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for work outside a web request (CLI, worker); commits on success."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def init_app(app: Flask, settings: Settings) -> Database:
    """Attach a :class:`Database` to the app and close the request session at teardown."""
    keyring = crypto.load_keyring(
        settings.encryption_keys, settings.blind_index_key, Path(app.instance_path)
    )
    database = Database(settings, keyring)
    app.extensions["portal.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            database.end(session, g.pop("db_reading", False))
            session.close()

    return database


def get_db(app: Flask) -> Database:
    """The :class:`Database` of ``app``."""
    database: Database = app.extensions["portal.db"]
    return database


@contextmanager
def working_session(app: Flask, base_url: str) -> Iterator[Session]:
    """For work outside a web request that renders emails: a request context (``url_for`` needs
    one) and one session that commits on success. Code that asks for the current session
    (:func:`session`: a template reading the towns) gets the same one, so it is all one
    transaction on one connection."""
    with app.test_request_context(base_url=base_url), get_db(app).session() as work:
        g.db_session = work
        yield work


def session() -> Session:
    """The session of the current request, created on first use."""
    if "db_session" not in g:
        database = get_db(current_app)
        reading = (
            has_request_context()
            and request.method in ("GET", "HEAD")
            and request.blueprint in READING_BLUEPRINTS
        )
        g.db_session = (database.readers if reading else database.sessions)()
        g.db_reading = reading
    result: Session = g.db_session
    return result


def commit() -> None:
    """Commit the current request's work: the only commit a view ever triggers."""
    if "db_session" in g:
        g.db_session.commit()


def rollback() -> None:
    """Drop the current request's unsaved work (a refused change, or a preview built in memory)."""
    if "db_session" in g:
        g.db_session.rollback()
