"""Mail that comes back: real reply, bounce and auto-reply files, the CLI and a real IMAP server."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from imapclient import IMAPClient
from prometheus_client import REGISTRY
from sqlalchemy import select

from portal import create_app
from portal.db import get_db
from portal.models import (
    HelpRequest,
    InboundMail,
    OutboxMessage,
    RequestEvent,
    StaffUser,
    utcnow,
)
from portal.services import inbound, verp
from tests.conftest import (
    TEST_SECRET,
    Mailbox,
    answer_all,
    clean,
    deliver,
    free_port,
    submit,
)
from tests.expect import body_of, match_in
from tests.integration.test_staff import make_staff

DATA = Path(__file__).resolve().parents[1] / "data" / "mail"
INBOUND = "antwort@portal.example.org"
RESIDENT = "elif@example.org"
BOUNCES = "portal_mail_bounces_total"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The portal with its inbound address set."""
    return {**app_config, "inbound_address": INBOUND}


def _submitted(client: FlaskClient, town: str = "verl") -> str:
    answer_all(client, overrides={"town": {"town": town}})
    submit(client)
    page = client.get("/de/request/done").get_data(as_text=True)
    return match_in(r"SD-\d{4}-\d{5}", page).group(0)


def _outbox(app: Flask, kind: str) -> OutboxMessage:
    with get_db(app).session() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).one()


def _message(name: str, **values: str) -> bytes:
    raw = (DATA / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", value.encode())
    assert b"{{" not in raw, name
    return raw


def _receive(app: Flask, raw: bytes, recipient: str = "") -> Any:
    return app.test_cli_runner().invoke(
        args=["mail", "receive", *(["--recipient", recipient] if recipient else [])], input=raw
    )


def _inbound(app: Flask) -> list[InboundMail]:
    with get_db(app).session() as session:
        return list(session.scalars(select(InboundMail).order_by(InboundMail.id)))


def _events(app: Flask, reference: str) -> list[RequestEvent]:
    with get_db(app).session() as session:
        request = session.scalars(
            select(HelpRequest).where(HelpRequest.reference == reference)
        ).one()
        return list(
            session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id))
        )


def _verp(message: OutboxMessage) -> str:
    return verp.return_path(INBOUND, TEST_SECRET, message.id)


def test_every_email_goes_out_with_a_signed_return_path_and_reply_to_the_inbound_address(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    _submitted(client)
    deliver(app)
    envelopes = mailbox.handler.messages
    assert len(envelopes) == 2
    for envelope, message in zip(envelopes, mailbox.messages, strict=True):
        row = _outbox(
            app, "resident_confirmation" if RESIDENT in envelope.rcpt_tos else "staff_new_request"
        )
        assert envelope.mail_from == _verp(row)
        assert verp.outbox_id(envelope.mail_from, INBOUND, TEST_SECRET) == row.id
        assert message["Reply-To"] == INBOUND
    forged = _verp(row).replace(f"+b{row.id}-", f"+b{row.id + 1}-")
    assert verp.outbox_id(forged, INBOUND, TEST_SECRET) is None


def test_a_staff_reply_from_outlook_lands_on_the_timeline_without_quoted_history(
    app: Flask, client: FlaskClient
) -> None:
    reference = _submitted(client)
    make_staff(app, "anna@example.org", "verl")
    notification = _outbox(app, "staff_new_request")
    raw = _message(
        "reply-outlook-de.eml",
        reference=reference,
        message_id=notification.message_id,
        portal=INBOUND,
        **{"from": "Anna@Example.org"},
    )
    result = _receive(app, raw)
    assert result.exit_code == 0 and "staff_reply" in result.output
    [event] = [e for e in _events(app, reference) if e.kind == "staff_mail"]
    assert "INTERNER-VERMERK" in event.text and "ZITIERTER-VERLAUF" not in event.text
    assert "Gesendet:" not in event.text
    assert event.public is False and event.staff is not None
    assert event.staff.email == "anna@example.org"
    assert _inbound(app)[0].raw is None


def test_staff_of_the_other_town_is_not_filed_as_staff(app: Flask, client: FlaskClient) -> None:
    reference = _submitted(client, "verl")
    make_staff(app, "bernd@example.org", "shs")
    raw = _message(
        "reply-outlook-de.eml",
        reference=reference,
        message_id=_outbox(app, "staff_new_request").message_id,
        portal=INBOUND,
        **{"from": "bernd@example.org"},
    )
    assert _receive(app, raw).exit_code == 0
    [mail] = _inbound(app)
    assert mail.kind == "unmatched" and mail.raw == raw
    assert not [e for e in _events(app, reference) if e.kind == "staff_mail"]


def test_a_resident_reply_is_public_and_the_inbox_hears_of_it_without_content(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    reference = _submitted(client)
    deliver(app)
    confirmation = _outbox(app, "resident_confirmation")
    raw = _message(
        "reply-thunderbird.eml",
        reference=reference,
        message_id=confirmation.message_id,
        portal=INBOUND,
        **{"from": RESIDENT},
    )
    assert _receive(app, raw).exit_code == 0
    [event] = [e for e in _events(app, reference) if e.kind == "resident_mail"]
    assert event.public is True and event.staff_id is None
    assert "ANTWORT-DER-PERSON" in event.text and "ZITIERTER-VERLAUF" not in event.text
    assert "schrieb" not in event.text
    deliver(app)
    [notice] = mailbox.to("soziales-duo-verl@example.org")[1:]
    body = body_of(notice, "plain")
    assert reference in notice["Subject"] and "E-Mail der Person" in body
    assert "ANTWORT-DER-PERSON" not in notice.as_string() and RESIDENT not in notice.as_string()
    assert notice["Auto-Submitted"] == "auto-generated"
    assert len(mailbox.to(RESIDENT)) == 1  # nothing answered the resident


def test_a_gmail_reply_matches_by_the_reference_in_its_subject(
    app: Flask, client: FlaskClient
) -> None:
    reference = _submitted(client)
    raw = _message("reply-gmail.eml", reference=reference, portal=INBOUND, **{"from": RESIDENT})
    assert _receive(app, raw).exit_code == 0
    [event] = [e for e in _events(app, reference) if e.kind == "resident_mail"]
    assert "GMAIL-ANTWORT" in event.text and "ZITIERTER-VERLAUF" not in event.text
    assert "Uhr schrieb" not in event.text


def test_a_stranger_or_an_unknown_reference_stays_unmatched_with_the_raw_message(
    app: Flask, client: FlaskClient
) -> None:
    reference = _submitted(client)
    stranger = _message(
        "reply-gmail.eml", reference=reference, portal=INBOUND, **{"from": "x@example.net"}
    )
    unknown = _message(
        "reply-thunderbird.eml",
        reference="SD-1999-99999",
        message_id="<nobody@example.org>",
        portal=INBOUND,
        **{"from": RESIDENT},
    )
    assert _receive(app, stranger).exit_code == 0
    assert _receive(app, unknown).exit_code == 0
    mails = _inbound(app)
    assert [m.kind for m in mails] == ["unmatched", "unmatched"]
    assert [m.raw for m in mails] == [stranger, unknown]
    assert not [e for e in _events(app, reference) if e.kind.endswith("_mail")]
    with get_db(app).session() as session:
        assert len(inbound.unmatched(session)) == 2


def test_the_same_message_twice_is_recorded_once(app: Flask, client: FlaskClient) -> None:
    reference = _submitted(client)
    raw = _message("reply-gmail.eml", reference=reference, portal=INBOUND, **{"from": RESIDENT})
    assert _receive(app, raw).exit_code == 0
    second = _receive(app, raw)
    assert second.exit_code == 0 and "duplicate" in second.output
    assert len(_inbound(app)) == 1
    assert len([e for e in _events(app, reference) if e.kind == "resident_mail"]) == 1


@pytest.mark.parametrize("name", ["bounce-postfix-dsn.eml", "bounce-gmail.eml"])
def test_a_bounce_to_the_signed_return_path_marks_the_outbox_row_bounced(
    app: Flask, client: FlaskClient, name: str
) -> None:
    reference = _submitted(client)
    row = _outbox(app, "resident_confirmation")
    raw = _message(
        name,
        reference=reference,
        message_id="<not-the-portals@example.org>",
        verp=_verp(row),
        recipient=RESIDENT,
    )
    assert _receive(app, raw, recipient=_verp(row)).exit_code == 0
    bounced = _outbox(app, "resident_confirmation")
    assert bounced.status == "bounced" and bounced.bounced_at is not None
    assert bounced.bounce_reason.startswith("5.1.1")
    [mail] = _inbound(app)
    assert mail.kind == "bounce" and mail.outbox_message_id == row.id and mail.raw is None


def test_a_bounce_counts_once_in_the_metrics(app: Flask, client: FlaskClient) -> None:
    reference = _submitted(client)
    row = _outbox(app, "resident_confirmation")
    raw = _message(
        "bounce-postfix-dsn.eml",
        reference=reference,
        message_id="<not-the-portals@example.org>",
        verp=_verp(row),
        recipient=RESIDENT,
    )
    before = REGISTRY.get_sample_value(BOUNCES) or 0.0
    assert _receive(app, raw, recipient=_verp(row)).exit_code == 0
    assert _receive(app, raw, recipient=_verp(row)).exit_code == 0  # the same report again
    assert REGISTRY.get_sample_value(BOUNCES) == before + 1


def test_an_exchange_report_marks_the_notification_bounced_by_its_message_id(
    app: Flask, client: FlaskClient
) -> None:
    reference = _submitted(client)
    row = _outbox(app, "staff_new_request")
    raw = _message(
        "bounce-exchange-ndr.eml",
        reference=reference,
        message_id=row.message_id,
        portal=INBOUND,
        recipient=row.recipient,
    )
    assert _receive(app, raw, recipient=INBOUND).exit_code == 0
    bounced = _outbox(app, "staff_new_request")
    assert bounced.status == "bounced"
    assert "5.1.10" in bounced.bounce_reason and "RecipientNotFound" in bounced.bounce_reason
    with get_db(app).session() as session:
        assert [m.id for m in inbound.bounced_messages(session)] == [row.id]
    assert not [e for e in _events(app, reference) if e.kind.endswith("_mail")]


@pytest.mark.parametrize("name", ["flufl/microsoft_01.eml", "flufl/simple_17.eml"])
def test_a_non_standard_bounce_is_recognised_through_the_signed_return_path(
    app: Flask, client: FlaskClient, name: str
) -> None:
    _submitted(client)
    row = _outbox(app, "resident_confirmation")
    assert _receive(app, _message(name), recipient=_verp(row)).exit_code == 0
    assert _outbox(app, "resident_confirmation").status == "bounced"


def test_a_forged_return_path_marks_nothing(app: Flask, client: FlaskClient) -> None:
    _submitted(client)
    row = _outbox(app, "resident_confirmation")
    forged = f"antwort+b{row.id}-0000000000@portal.example.org"
    assert _receive(app, _message("flufl/simple_17.eml"), recipient=forged).exit_code == 0
    assert _outbox(app, "resident_confirmation").status == "pending"


@pytest.mark.parametrize(
    ("name", "sender"),
    [("autoreply-standard.eml", RESIDENT), ("autoreply-exchange.eml", "anna@example.org")],
)
def test_auto_replies_are_recorded_and_never_answered(
    app: Flask, client: FlaskClient, mailbox: Mailbox, name: str, sender: str
) -> None:
    reference = _submitted(client)
    make_staff(app, "anna@example.org", "verl")
    deliver(app)
    sent = len(mailbox.messages)
    row = _outbox(app, "resident_confirmation")
    raw = _message(
        name, reference=reference, message_id=row.message_id, portal=INBOUND, **{"from": sender}
    )
    assert _receive(app, raw).exit_code == 0
    [mail] = _inbound(app)
    assert mail.kind == "auto_reply" and mail.request_id is not None and mail.raw is None
    assert not [e for e in _events(app, reference) if e.kind.endswith("_mail")]
    deliver(app)
    assert len(mailbox.messages) == sent


def test_a_coordinator_files_or_dismisses_an_unmatched_message(
    app: Flask, client: FlaskClient
) -> None:
    reference = _submitted(client)
    make_staff(app, "chris@example.org", None, role="coordinator")
    for sender in (RESIDENT, "x@example.net"):
        raw = _message(
            "reply-gmail.eml", reference="SD-1999-99999", portal=INBOUND, **{"from": sender}
        )
        _receive(app, raw.replace(b"Message-ID: <CAF7", f"Message-ID: <{sender}".encode()))
    with get_db(app).session() as session:
        chris = session.scalars(select(StaffUser)).one()
        request = session.scalars(select(HelpRequest)).one()
        first, second = sorted(inbound.unmatched(session), key=lambda m: m.id)
        event = inbound.attach(session, first, request, chris, utcnow())
        assert event.kind == "resident_mail" and event.public and first.raw is None
        other = inbound.attach(session, second, request, chris, utcnow())
        assert other.kind == "filed_mail" and other.public is False
        assert inbound.unmatched(session) == []
        with pytest.raises(inbound.AlreadyResolved):
            inbound.attach(session, first, request, chris, utcnow())
    assert {e.kind for e in _events(app, reference)} >= {"resident_mail", "filed_mail"}


def test_mail_receive_asks_the_mta_to_retry_when_the_database_is_unreachable(
    app_config: dict[str, Any],
) -> None:
    broken = create_app(
        {**app_config, "database_url": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x"}
    )
    result = broken.test_cli_runner().invoke(
        args=["mail", "receive"], input=_message("flufl/simple_17.eml")
    )
    assert result.exit_code == 75


# --- A real IMAP server -------------------------------------------------------------------------

DOVECOT = "/usr/sbin/dovecot"
DOVECOT_CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
# Dovecot refuses to run its login and internal processes as root, and mail as uid 0.
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = 1
first_valid_gid = 1
mail_uid = dovecot
mail_gid = dovecot
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _wait_for_imap(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                if connection.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("Dovecot did not start")


@pytest.fixture
def imap_port() -> Iterator[int]:
    """A private Dovecot on loopback with the user ``portal`` / ``secret``."""
    if not Path(DOVECOT).exists():
        pytest.fail("Dovecot is missing: make system-deps installs dovecot-imapd")
    # Dovecot's unprivileged processes must reach the folder, so not pytest's 0700 tmp dir.
    root = Path(tempfile.mkdtemp(prefix="portal-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    account = pwd.getpwnam("dovecot")
    (root / "mail").mkdir()
    os.chown(root / "mail", account.pw_uid, account.pw_gid)
    (root / "users").write_text("portal:{PLAIN}secret\n")
    (root / "dovecot.conf").write_text(DOVECOT_CONF.format(root=root, port=port))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")])
    try:
        _wait_for_imap(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_app(app_config: dict[str, Any], imap_port: int) -> Iterator[Flask]:
    """The portal polling the private Dovecot."""
    application = create_app(
        {
            **app_config,
            "imap_host": "127.0.0.1",
            "imap_port": imap_port,
            "imap_ssl": False,
            "imap_username": "portal",
            "imap_password": "secret",
        }
    )
    clean(application)
    yield application
    get_db(application).engine.dispose()


def _imap(port: int) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=5)
    client.login("portal", "secret")
    return client


def test_mail_fetch_files_each_message_and_moves_it_to_the_done_folder(
    imap_app: Flask, imap_port: int
) -> None:
    client = imap_app.test_client()
    reference = _submitted(client)
    row = _outbox(imap_app, "resident_confirmation")
    reply = _message(
        "reply-thunderbird.eml",
        reference=reference,
        message_id=row.message_id,
        portal=INBOUND,
        **{"from": RESIDENT},
    )
    bounce = _message(
        "bounce-postfix-dsn.eml",
        reference=reference,
        message_id=row.message_id,
        verp=_verp(row),
        recipient=RESIDENT,
    )
    imap = _imap(imap_port)
    for raw in (reply, bounce, reply):
        imap.append("INBOX", raw)
    result = imap_app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert result.exit_code == 0, result.output
    assert "handled=3 failed=0" in result.output
    assert sorted(m.kind for m in _inbound(imap_app)) == ["bounce", "resident_reply"]
    assert _outbox(imap_app, "resident_confirmation").status == "bounced"
    imap.select_folder("INBOX")
    assert imap.search() == []
    imap.select_folder("Verarbeitet")
    assert len(imap.search()) == 3
    imap.logout()
    again = imap_app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert "handled=0 failed=0" in again.output
