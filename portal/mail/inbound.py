"""Receiving mail that comes back, from an MTA pipe or by polling an IMAP mailbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask
from imapclient import IMAPClient

from .. import metrics
from ..config import Settings, settings_of
from ..db import working_session
from ..models import utcnow
from ..services import inbound
from . import queue_request_changed

# Log ids and kinds only: never an address, a subject or any content.
log = logging.getLogger("portal.inbound")


@dataclass
class FetchResult:
    """What one IMAP poll did."""

    handled: int = 0
    failed: int = 0


def identity(settings: Settings) -> inbound.Identity:
    """How this portal signs and recognises its VERP return paths."""
    return inbound.Identity(settings.inbound_address, settings.secret_key)


def receive(app: Flask, raw: bytes, recipient: str = "") -> inbound.Received:
    """Record and file one message in its own transaction; tell the inbox of a resident reply."""
    settings = settings_of(app)
    with working_session(app, settings.public_url) as session:
        received = inbound.receive(session, raw, identity(settings), utcnow(), recipient)
        if received.notify is not None:
            queue_request_changed(session, received.notify, "replied")
    if received.mail.kind == "bounce" and not received.duplicate:
        metrics.BOUNCES.inc()
    log.info(
        "inbound mail #%s: %s%s",
        received.mail.id,
        received.mail.kind,
        " (duplicate)" if received.duplicate else "",
    )
    return received


def _connect(settings: Settings) -> IMAPClient:
    """A logged-in IMAP connection."""
    client = IMAPClient(
        settings.imap_host,
        port=settings.imap_port,
        ssl=settings.imap_ssl,
        timeout=settings.mail_timeout,
    )
    client.login(settings.imap_username, settings.imap_password)
    return client


def _move(client: IMAPClient, uid: int, folder: str) -> None:
    """Move one message, with COPY and EXPUNGE where the server lacks MOVE."""
    if client.has_capability("MOVE"):
        client.move([uid], folder)
        return
    client.copy([uid], folder)
    client.delete_messages([uid])
    client.uid_expunge([uid])


def fetch(app: Flask) -> FetchResult:
    """Handle every unseen message of the IMAP folder, then move it to the done folder.

    Each message is committed on its own before it is moved; a message that fails stays
    where it is, unseen, for the next run (a second delivery of one already recorded is a
    no-op, so a move that failed after the commit is simply repeated).
    """
    settings = settings_of(app)
    result = FetchResult()
    client = _connect(settings)
    try:
        if not client.folder_exists(settings.imap_done_folder):
            client.create_folder(settings.imap_done_folder)
        client.select_folder(settings.imap_folder)
        for uid in client.search(["UNSEEN"]):
            raw = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
            try:
                receive(app, bytes(raw or b""))
            except Exception:  # one bad message must not stop the others
                log.exception("inbound mail with IMAP uid %s not handled", uid)
                result.failed += 1
                continue
            _move(client, uid, settings.imap_done_folder)
            result.handled += 1
    finally:
        client.logout()
    return result
