"""Emails go through the outbox: nothing lost when the mail server is down, nothing sent twice."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, update

from portal.db import get_db
from portal.models import OutboxMessage, utcnow
from portal.services import outbox
from portal.tools import mailcatcher
from tests.conftest import Mailbox, answer_all, deliver, submit


def _make_due(app: Flask) -> None:
    with get_db(app).session() as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))


def test_requests_made_while_the_mail_server_is_down_are_delivered_once_when_it_is_back(
    app: Flask, client: FlaskClient, smtp_port: int
) -> None:
    for _ in range(3):
        answer_all(client)
        response = submit(client)
        assert response.headers["Location"].endswith("/de/request/done")
    result = deliver(app)
    assert result.sent == 0 and result.retried == 6
    with get_db(app).session() as session:
        pending = session.scalars(select(OutboxMessage)).all()
        assert {m.status for m in pending} == {"pending"}
        assert all(m.next_attempt_at > utcnow() for m in pending)
    controller, handler = mailcatcher.start("127.0.0.1", smtp_port)
    try:
        _make_due(app)
        assert deliver(app).sent == 6
        _make_due(app)
        assert deliver(app).sent == 0
        assert len(handler.messages) == 6
        contents = [e.original_content or b"" for e in handler.messages]
        ids = [content.split(b"Message-ID: ")[1].split(b"\r\n")[0] for content in contents]
        assert len(set(ids)) == 6
    finally:
        controller.stop()


def test_a_permanent_refusal_is_recorded_and_not_retried(
    app: Flask, client: FlaskClient, smtp_port: int
) -> None:
    class Refusing(mailcatcher.MailboxHandler):
        async def handle_RCPT(
            self, server: object, session: object, envelope: object, address: str, options: object
        ) -> str:
            return "550 No such user here"

    from aiosmtpd.controller import Controller

    controller = Controller(Refusing(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        answer_all(client)
        submit(client)
        result = deliver(app)
    finally:
        controller.stop()
    assert result.failed == 2
    with get_db(app).session() as session:
        failed = outbox.failed_messages(session)
        assert len(failed) == 2 and failed[0].attempts == 1
    status = app.test_cli_runner().invoke(args=["outbox", "status"])
    assert "failed   2" in status.output


def test_a_message_claimed_by_a_worker_that_died_is_sent_again_with_the_same_id(
    app: Flask, client: FlaskClient, mailbox: object
) -> None:
    answer_all(client)
    submit(client)
    with get_db(app).session() as session:
        claimed = outbox.claim_due(session)
        assert len(claimed) == 2
    assert deliver(app).sent == 0  # still claimed by the dead worker
    with get_db(app).session() as session:
        session.execute(update(OutboxMessage).values(claimed_until=utcnow()))
    assert deliver(app).sent == 2


@pytest.mark.full_database
def test_once_the_mail_server_took_a_message_the_worker_only_commits_on_postgresql(
    app: Flask, client: FlaskClient, smtp_port: int
) -> None:
    """A worker that dies after the server took a message sends it again (no protocol lets an
    SMTP server and a database commit together); the moment for that is only the commit."""
    if get_db(app).engine.dialect.name != "postgresql":
        pytest.skip("SQLite cannot keep a transaction open while the server talks")
    answer_all(client)
    submit(client)
    events: list[str] = []

    class Recording(mailcatcher.MailboxHandler):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            answer = await super().handle_DATA(server, session, envelope)
            events.append("taken")  # before the worker reads the answer
            return answer

    def statement(*arguments: Any) -> None:
        events.append(" ".join(arguments[2].split()[:2]).upper())

    def commit(_connection: Any) -> None:
        events.append("COMMIT")

    from aiosmtpd.controller import Controller

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    controller = Controller(Recording(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        sent = deliver(app).sent
    finally:
        controller.stop()
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    assert sent == 2 and events.count("taken") == 2
    for position, step in enumerate(events):
        if step == "taken":
            assert events[position + 1 : position + 2] == ["COMMIT"], events
    with get_db(app).session() as session:
        stored = session.scalars(select(OutboxMessage)).all()
    assert {message.status for message in stored} == {"sent"}
    assert all(message.body_text == "" for message in stored)


def test_a_refused_message_keeps_its_content_for_the_next_attempt(
    app: Flask, client: FlaskClient, smtp_port: int
) -> None:
    class Busy(mailcatcher.MailboxHandler):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "451 Try again later"

    from aiosmtpd.controller import Controller

    answer_all(client)
    submit(client)
    controller = Controller(Busy(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        result = deliver(app)
    finally:
        controller.stop()
    assert result.retried == 2 and result.sent == 0
    with get_db(app).session() as session:
        stored = session.scalars(select(OutboxMessage)).all()
        assert {message.status for message in stored} == {"pending"}
        assert all(message.attempts == 1 and message.sent_at is None for message in stored)
        bodies = {message.message_id.strip("<>"): message.body_text for message in stored}
    assert all("SD-" in body for body in bodies.values())
    controller, handler = mailcatcher.start("127.0.0.1", smtp_port)
    try:
        _make_due(app)
        assert deliver(app).sent == 2
    finally:
        controller.stop()
    arrived = [
        message_from_bytes(envelope.original_content or b"", policy=policy.default)
        for envelope in handler.messages
    ]
    for email in arrived:
        text = email.get_body(preferencelist=("plain",))
        assert text is not None
        stored_body = bodies[email["Message-ID"].strip("<>")]
        # The words as stored (the transfer may fold lines and change their endings).
        assert text.get_content().split() == stored_body.split()


def test_backoff_grows_and_stays_bounded() -> None:
    first = [outbox.backoff_seconds(1) for _ in range(50)]
    later = [outbox.backoff_seconds(6) for _ in range(50)]
    assert max(first) <= 30 < min(later)
    assert max(outbox.backoff_seconds(40) for _ in range(50)) <= outbox.MAX_BACKOFF_SECONDS


class HangingSmtp:
    """An SMTP server that greets and then never answers: a send that hangs mid-conversation."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.talking = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:  # closed: the test is over
                return
            self.connections.append(connection)
            # Each connection on its own: another program that happens to connect to this port
            # and hangs up (or stays silent) must not keep the worker from being greeted.
            threading.Thread(target=self._greet, args=(connection,), daemon=True).start()

    def _greet(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            connection.sendall(b"220 hanging.test ESMTP\r\n")
            if connection.recv(1024):  # EHLO arrived: the worker is mid-send
                self.talking.set()

    def close(self) -> None:
        for connection in [*self.connections, self.listener]:
            connection.close()


@pytest.mark.full_database
def test_a_message_whose_worker_was_killed_mid_send_goes_out_at_once_on_postgresql(
    app: Flask, client: FlaskClient, mailbox: Mailbox, app_config: dict[str, Any]
) -> None:
    if get_db(app).engine.dialect.name != "postgresql":
        pytest.skip("several workers run on PostgreSQL only")
    answer_all(client)
    submit(client)
    hanging = HangingSmtp()
    env = {
        **os.environ,
        "PORTAL_INSTANCE_PATH": app_config["instance_path"],
        "PORTAL_SECRET_KEY": app_config["secret_key"],
        "PORTAL_DATABASE_URL": app_config["database_url"],
        "PORTAL_PUBLIC_URL": app_config["public_url"],
        "PORTAL_MAIL_PORT": str(hanging.port),
        "PORTAL_MAIL_TIMEOUT": "120",
    }
    flask = Path(sys.executable).parent / "flask"
    worker = subprocess.Popen(
        [str(flask), "--app", "portal", "outbox", "work"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # A busy machine may take a while to start the worker; it must not die meanwhile.
        while not hanging.talking.wait(1):
            assert worker.poll() is None, "the worker stopped before reaching the SMTP server"
    finally:
        worker.kill()  # SIGKILL: no goodbye, no cleanup
        worker.wait()
        hanging.close()
    # The other worker does not wait for a claim to expire: every email (the request's two,
    # and the digest the killed worker queued at its start) goes out now, once.
    sent = deliver(app).sent
    assert deliver(app).sent == 0
    with get_db(app).session() as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
    assert sent == len(statuses) >= 2 and set(statuses) == {"sent"}
    ids = [message["Message-ID"] for message in mailbox.messages]
    assert len(ids) == sent == len(set(ids))
