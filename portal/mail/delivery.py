"""The delivery worker: the only code that talks to the SMTP server."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.mime.base import MIMEBase
from typing import Any

from flask import Flask, current_app
from flask_mail import Connection, Mail, Message

from .. import metrics
from ..config import Settings, is_loopback, settings_of
from ..db import Savepoint, get_db
from ..i18n import html_lang_of
from ..models import OutboxMessage
from ..services import outbox, verp

log = logging.getLogger("portal.delivery")


class PlaintextRefused(smtplib.SMTPException):
    """Plaintext SMTP to a server that is not on this machine: nothing is sent."""


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """A TLS context that verifies the server's certificate and host name.

    ``ca_file`` (PEM) replaces the system's trusted CAs, for a server with a local CA.
    """
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class VerifiedConnection(Connection):
    """Flask-Mail's connection, but TLS (STARTTLS or implicit) always verifies the server.

    Flask-Mail itself calls ``starttls()`` without a context, which accepts any
    certificate; and plaintext is refused unless the server is on loopback.
    """

    def __init__(self, state: Any, settings: Settings) -> None:
        super().__init__(state)
        self.settings = settings

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        """Connect, secure the connection with a verified context, then log in."""
        settings = self.settings
        if not (settings.mail_use_tls or settings.mail_use_ssl) and not is_loopback(
            settings.mail_server
        ):
            raise PlaintextRefused("plaintext SMTP to a remote server")
        context = tls_context(settings.mail_ca_file)
        host: smtplib.SMTP | smtplib.SMTP_SSL
        if settings.mail_use_ssl:
            host = smtplib.SMTP_SSL(settings.mail_server, settings.mail_port, context=context)
        else:
            host = smtplib.SMTP(settings.mail_server, settings.mail_port)
        try:
            if settings.mail_use_tls:
                host.starttls(context=context)
            if settings.mail_username and settings.mail_password:
                host.login(settings.mail_username, settings.mail_password)
        except BaseException:
            host.close()
            raise
        return host


class VerifyingMail(Mail):
    """Flask-Mail whose connections are :class:`VerifiedConnection`."""

    def connect(self) -> Connection:
        """Open a connection that verifies the server's certificate."""
        return VerifiedConnection(current_app.extensions["mail"], settings_of(current_app))


mail = VerifyingMail()

AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


@dataclass
class RunResult:
    """What one pass over the outbox did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def _is_permanent(error: Exception) -> bool:
    """5xx answers are permanent; time-outs, refused connections and 4xx are worth a retry."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


class EncryptedMessage(Message):
    """A message whose whole body is a stored S/MIME entity, under the usual outer headers."""

    def __init__(self, entity: bytes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entity = entity

    def _message(self) -> MIMEBase:
        """The outer headers of an ordinary message around the encrypted entity."""
        message = super()._message()
        entity = message_from_bytes(self.entity)
        for name in ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition"):
            del message[name]
        for name, value in entity.items():
            message[name] = "".join(str(value).splitlines())  # unfold
        message.set_payload(entity.get_payload())
        return message


def _outer(message: OutboxMessage, settings: Settings) -> dict[str, Any]:
    """The outer headers every message carries, as Flask-Mail arguments."""
    return {
        "subject": message.subject,
        "recipients": [message.recipient],
        "sender": settings.mail_sender,
        "reply_to": message.reply_to or settings.inbound_address or None,
        "extra_headers": {**AUTOMATIC_HEADERS, "Content-Language": html_lang_of(message.locale)},
    }


def _build(message: OutboxMessage, settings: Settings) -> Message:
    mail_message: Message
    if message.encrypted_mime is not None:
        mail_message = EncryptedMessage(
            message.encrypted_mime, body="", **_outer(message, settings)
        )
    else:
        mail_message = Message(
            body=message.body_text, html=message.body_html, **_outer(message, settings)
        )
    mail_message.msgId = message.message_id
    if message.attachment_data is not None and message.encrypted_mime is None:
        mail_message.attach(
            filename=message.attachment_name,
            content_type=message.attachment_type,
            data=message.attachment_data,
        )
    return mail_message


def _envelope_from(message: OutboxMessage, settings: Settings) -> str | None:
    """The signed VERP return path when mail that comes back is received, else the sender."""
    if not settings.inbound_address:
        return None
    return verp.return_path(settings.inbound_address, settings.secret_key, message.id)


def deliver_due(app: Flask, batch: int = 20) -> RunResult:
    """Deliver up to ``batch`` due messages, one claim at a time; returns the counts.

    Each message is claimed just before it is sent, so a worker that dies leaves at most the
    one it was sending. On PostgreSQL the claim is a row lock held while the SMTP server
    talks (:func:`outbox.lock_next_due`): nothing else waits for that row, and a dead worker's
    message is free again at once. On SQLite a transaction would lock the whole file, so
    there the claim is committed first and expires after :data:`outbox.CLAIM_SECONDS`.

    A worker killed after the SMTP server accepted a message but before the database
    recorded it leaves it due: it is sent again with the same Message-ID. No protocol lets
    an SMTP server and a database commit together, so that window is narrowed, not closed.
    """
    settings = settings_of(app)
    database = get_db(app)
    result = RunResult()
    socket.setdefaulttimeout(settings.mail_timeout)
    sender = _Sender(settings)
    locking = database.engine.dialect.name == "postgresql"
    with app.app_context():
        try:
            for _ in range(batch):
                next_one = _deliver_locked if locking else _deliver_claimed
                if not next_one(database, sender, result):
                    break
        finally:
            sender.close()
    return result


class _Sender:
    """One SMTP connection, opened on first use and reopened after a failure."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connection: Any = None

    def letter(self, message: OutboxMessage) -> tuple[Message, str | None]:
        """The email as it goes out, and its envelope sender; built from the stored content."""
        return _build(message, self.settings), _envelope_from(message, self.settings)

    def send(self, message: OutboxMessage) -> Exception | None:
        """Send ``message``; the error that stopped it, or ``None`` once the server took it."""
        try:
            letter = self.letter(message)
        except Exception as error:
            return error
        return self.hand_over(letter)

    def hand_over(self, letter: tuple[Message, str | None]) -> Exception | None:
        """Give a built ``letter`` to the server; the error, or ``None`` once it took it."""
        mail_message, envelope_from = letter
        try:
            if self.connection is None:
                self.connection = mail.connect().__enter__()
            self.connection.send(mail_message, envelope_from=envelope_from)
        except Exception as error:
            self.close()
            return error
        return None

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        _close(self.connection)
        self.connection = None


def _deliver_locked(database: Any, sender: _Sender, result: RunResult) -> bool:
    """PostgreSQL: lock the next due message, send it and record it in one transaction.

    The delivery is written (in a savepoint) before the server is asked, so that once the
    server has taken the message only the commit is left to do: a worker that dies in that
    moment is the one way to send a message twice, and the moment is kept as short as the
    database allows. When the server refuses, the savepoint is rolled back (the content
    comes back) and the failed attempt is recorded instead.
    """
    with database.session() as session:
        message = outbox.lock_next_due(session)
        if message is None:
            return False
        try:
            letter = sender.letter(message)
        except Exception as unbuildable:
            _record_failure(session, message, unbuildable, sender.settings, result)
            return True
        attempt = Savepoint(session, "delivery")
        outbox.mark_sent(session, message)
        session.flush()
        error = sender.hand_over(letter)
        if error is not None:
            attempt.roll_back(message)
            _record_failure(session, message, error, sender.settings, result)
            return True
    _count_sent(result)
    return True


def _deliver_claimed(database: Any, sender: _Sender, result: RunResult) -> bool:
    """SQLite: commit a claim on the next due message, send it, then record the outcome.

    A write transaction locks the whole file, so none can stay open while the server talks:
    here the moment between the server taking a message and the record of it is longer.
    """
    with database.session() as session:
        ids = outbox.claim_due(session, limit=1)
    if not ids:
        return False
    with database.session() as session:
        message = session.get_one(OutboxMessage, ids[0])
    error = sender.send(message)
    with database.session() as session:
        message = session.get_one(OutboxMessage, ids[0])
        if error is not None:
            _record_failure(session, message, error, sender.settings, result)
            return True
        outbox.mark_sent(session, message)
    _count_sent(result)
    return True


def _count_sent(result: RunResult) -> None:
    """Count a delivery the database has recorded."""
    metrics.DELIVERED.inc()
    result.sent += 1


def _record_failure(
    session: Any,
    message: OutboxMessage,
    error: Exception,
    settings: Settings,
    result: RunResult,
) -> None:
    """Count a failed attempt: retry later, or give up after a refusal or too many tries."""
    outbox.mark_failed(
        session, message, type(error).__name__, _is_permanent(error), settings.outbox_max_attempts
    )
    log.warning("outbox message %s not delivered: %s", message.id, type(error).__name__)
    failed = message.status == "failed"
    metrics.DELIVERY_FAILURES.labels("failed" if failed else "retry").inc()
    if failed:
        result.failed += 1
    else:
        result.retried += 1


def _close(connection: Any) -> None:
    if connection is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.__exit__(None, None, None)


def work(
    app: Flask,
    interval: float = 2.0,
    should_stop: Callable[[], bool] = lambda: False,
    on_pass: Callable[[RunResult], None] | None = None,
    reminder_interval: float = 300.0,
    purge_interval: float = 86400.0,
) -> None:
    """Deliver until told to stop, waiting ``interval`` seconds when nothing is due.

    Every ``reminder_interval`` seconds the loop also queues the day-before reminders, and
    each pass queues the daily digests once their hour has come, and every ``imap_interval``
    seconds it polls the IMAP mailbox when one is configured, and every ``purge_interval``
    seconds (first at start) it runs the retention purge, so running the worker is all a
    deployment needs for them.
    """
    from ..housekeeping import purge
    from .digest import send_due_digests
    from .inbound import fetch
    from .reminders import send_due_reminders

    settings = settings_of(app)
    chores = [
        _Chore("reminder pass", reminder_interval, lambda: send_due_reminders(app)),
        _Chore("retention purge", purge_interval, lambda: purge(app)),
    ]
    if settings.imap_host:
        chores.append(_Chore("IMAP fetch", settings.imap_interval, lambda: fetch(app)))
    while not should_stop():
        for chore in chores:
            chore.run_if_due()
        try:
            send_due_digests(app)
        except Exception:  # nor must a digest hiccup
            log.exception("digest pass failed")
        try:
            result = deliver_due(app)
        except Exception:  # the worker must survive a database hiccup
            log.exception("outbox pass failed")
            result = RunResult()
        if on_pass is not None:
            on_pass(result)
        if not (result.sent or result.retried or result.failed):
            time.sleep(interval)


@dataclass
class _Chore:
    """Work the delivery loop does every ``interval`` seconds; a failure never stops delivery."""

    name: str
    interval: float
    action: Callable[[], object]
    last: float = float("-inf")

    def run_if_due(self) -> None:
        """Run the action when its interval has passed, logging (not raising) a failure."""
        if time.monotonic() - self.last < self.interval:
            return
        self.last = time.monotonic()
        try:
            self.action()
        except Exception:
            log.exception("%s failed", self.name)


def init_app(app: Flask) -> None:
    """Configure Flask-Mail from the app's settings."""
    mail.init_app(app)
