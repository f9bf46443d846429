"""Mail leaves the portal only over TLS whose certificate is checked, or to loopback."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from portal import create_app
from portal.config import ConfigError, is_loopback, load_settings, settings_of
from portal.db import get_db
from portal.mail import delivery
from portal.models import OutboxMessage
from portal.services import outbox
from portal.tools.deploy_local import self_signed_certificate
from portal.tools.mailcatcher import MailboxHandler
from tests.conftest import free_port


class TlsMailbox:
    """An SMTP server on loopback that requires STARTTLS with a self-signed certificate."""

    def __init__(self, port: int, handler: MailboxHandler, ca_file: Path) -> None:
        self.port = port
        self.handler = handler
        self.ca_file = ca_file


@pytest.fixture
def tls_mailbox(tmp_path: Path) -> Iterator[TlsMailbox]:
    """A STARTTLS-only mail server and the CA file that vouches for it."""
    cert_file, key_file = self_signed_certificate(tmp_path, "mail.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    handler = MailboxHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        ready_timeout=10,
    )
    controller.start()
    yield TlsMailbox(port, handler, cert_file)
    controller.stop()


def _app_with(app_config: dict[str, Any], **settings: Any) -> Flask:
    application = create_app({**app_config, **settings})
    with get_db(application).session() as session:
        for message in session.scalars(select(OutboxMessage)):
            session.delete(message)
        outbox.enqueue(
            session,
            outbox.Email(
                kind="digest",
                recipient="someone@example.org",
                subject="Test",
                body_text="Hallo",
                body_html="",
                message_id="<tls-test@portal.test>",
            ),
        )
    return application


def _statuses(application: Flask) -> list[tuple[str, str]]:
    with get_db(application).session() as session:
        return [(m.status, m.last_error) for m in session.scalars(select(OutboxMessage))]


def test_starttls_to_a_server_with_an_unknown_certificate_sends_nothing(
    app: Flask, app_config: dict[str, Any], tls_mailbox: TlsMailbox
) -> None:
    application = _app_with(app_config, mail_port=tls_mailbox.port, mail_use_tls=True)
    result = delivery.deliver_due(application)
    assert result.sent == 0 and result.retried == 1
    assert tls_mailbox.handler.messages == []
    assert _statuses(application)[0][1] == "SSLCertVerificationError"
    get_db(application).engine.dispose()


def test_starttls_with_the_local_ca_file_delivers(
    app: Flask, app_config: dict[str, Any], tls_mailbox: TlsMailbox
) -> None:
    application = _app_with(
        app_config,
        mail_port=tls_mailbox.port,
        mail_use_tls=True,
        mail_ca_file=str(tls_mailbox.ca_file),
    )
    assert delivery.deliver_due(application).sent == 1
    assert len(tls_mailbox.handler.messages) == 1
    get_db(application).engine.dispose()


def test_plaintext_smtp_to_a_remote_server_refuses_to_start(tmp_path: Path) -> None:
    base = {"secret_key": "x" * 40}
    with pytest.raises(ConfigError, match="PORTAL_MAIL_SERVER"):
        load_settings(tmp_path, {**base, "mail_server": "mail.example.org"}, environ={})
    assert load_settings(
        tmp_path, {**base, "mail_server": "mail.example.org", "mail_use_tls": True}, environ={}
    ).mail_use_tls
    assert load_settings(tmp_path, {**base, "mail_server": "localhost"}, environ={})
    with pytest.raises(ConfigError, match="PORTAL_MAIL_CA_FILE"):
        load_settings(
            tmp_path,
            {**base, "mail_use_tls": True, "mail_ca_file": str(tmp_path / "none.pem")},
            environ={},
        )


def test_residents_replies_are_fetched_in_plaintext_only_from_this_machine(
    tmp_path: Path,
) -> None:
    base = {"secret_key": "x" * 40, "imap_ssl": False}
    with pytest.raises(ConfigError, match="PORTAL_IMAP_SSL"):
        load_settings(tmp_path, {**base, "imap_host": "imap.example.org"}, environ={})
    assert load_settings(tmp_path, {**base, "imap_host": "127.0.0.1"}, environ={}).imap_host
    secure = {**base, "imap_host": "imap.example.org", "imap_ssl": True}
    assert load_settings(tmp_path, secure, environ={}).imap_ssl


def test_plaintext_smtp_is_refused_at_sending_too(app: Flask) -> None:
    settings = settings_of(app)
    remote = type(settings)(**{**settings.__dict__, "mail_server": "192.0.2.1"})
    connection = delivery.VerifiedConnection(app.extensions["mail"], remote)
    with pytest.raises(delivery.PlaintextRefused):
        connection.configure_host()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("mail.example.org", False),
        ("192.0.2.1", False),
        ("localhost.example.org", False),
        ("mail.localhost", False),
    ],
)
def test_only_this_machine_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
