"""Encryption at rest: what a resident or colleague typed is never readable in the database,
neither in any row (SQLite and PostgreSQL) nor in the SQLite file, and sent emails keep only
their metadata."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, LargeBinary, String, Text, inspect, select, text

from portal.db import get_db
from portal.models import Booking, HelpRequest, OutboxMessage, RequestDraft, StaffUser
from tests.booking_support import confirm, manage_path, seed_schedule, walk_booking
from tests.conftest import Mailbox, answer_all, deliver, submit
from tests.integration.test_accounts import _activate, _admin, _invite, _link, _mails
from tests.integration.test_triage import _staff, _step

INBOUND = "antwort@portal.example.org"
REPLY = Path(__file__).resolve().parents[1] / "data" / "mail" / "reply-gmail.eml"

# Everything the test types in, as it would appear in plaintext.
REQUEST_DETAILS = {
    "name": "Elif Geheimname",
    "phone": "05207 918273",
    "email": "elif.geheim@example.org",
    "street": "Am Geheimweg 7",
    "postcode": "33758",
    "city": "Stukenbrock-Geheim",
}
SUBJECT_NAME = "Fatma Verborgen"
NEED = "Meine Mutter kann nicht mehr allein einkaufen. BEDARF-GEHEIM-4711"
ACCESSIBILITY_NOTE = "Rollstuhl BARRIERE-GEHEIM"
BOOKING_DETAILS = {
    "name": "Anna Buchungsname",
    "email": "anna.buchung@example.org",
    "phone": "05246 554433",
}
BOOKING_NOTE = "GEHEIME-NOTIZ Vater braucht Pflegegrad"  # walk_booking's note
BOOKING_SUBJECT = "Karl Schmidt"  # walk_booking's person concerned
STAFF_NOTE = "INTERNE-NOTIZ-GEHEIM Schulden beim Vermieter"
STAFF_MESSAGE = "Bitte schicken Sie den Bescheid. NACHRICHT-GEHEIM"
REPLY_TEXT = "GMAIL-ANTWORT"
STRANGER = "fremde.person@example.net"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The portal with its inbound address set, so replies are filed."""
    return {**app_config, "inbound_address": INBOUND}


def _submit_request(client: FlaskClient) -> str:
    """A request on someone's behalf, for a home visit, with every personal field filled."""
    answer_all(
        client,
        overrides={
            "relation": {"subject_name": SUBJECT_NAME},
            "need": {"need": NEED},
            "contact": {"contact_method": "home_visit"},
            "accessibility": {
                "accessibility": ["hearing"],
                "accessibility_note": ACCESSIBILITY_NOTE,
            },
            "details": REQUEST_DETAILS,
        },
    )
    assert submit(client).status_code == 302
    page = client.get("/de/request/done").get_data(as_text=True)
    return re.search(r"SD-\d{4}-\d{5}", page).group(0)  # type: ignore[union-attr]


def _booked(client: FlaskClient) -> str:
    """Book from the check page; the private link's token shown on the confirmation."""
    assert confirm(client).status_code == 302
    page = client.get("/de/booking/done").get_data(as_text=True)
    return manage_path(page).rsplit("/", 1)[1]


def _reply(app: Flask, reference: str, sender: str = REQUEST_DETAILS["email"]) -> None:
    raw = REPLY.read_bytes()
    raw = raw.replace(b"Message-ID: <", b"Message-ID: <" + sender.encode() + b".")  # not a dupe
    for key, value in {"reference": reference, "portal": INBOUND, "from": sender}.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", value.encode())
    assert app.test_cli_runner().invoke(args=["mail", "receive"], input=raw).exit_code == 0


def _enrol(app: Flask, mailbox: Mailbox) -> list[str]:
    """An invited colleague sets up the second factor; returns the TOTP secret and the
    recovery codes shown once."""
    admin = _admin(app, "admin-at-rest@example.org")
    assert _invite(admin, "nora.rest@example.org").status_code == 302
    [invitation] = _mails(app, mailbox, "nora.rest@example.org")
    secret, answer = _activate(app.test_client(), _link(invitation))
    page = answer.get_data(as_text=True)
    codes = re.findall(r'<li><code dir="ltr">([a-z2-9]{5}-[a-z2-9]{5})</code></li>', page)
    assert secret and len(codes) == 10
    return [secret, *codes]


def _everything(app: Flask, client: FlaskClient, mailbox: Mailbox) -> tuple[list[str], str]:
    """A help request, a booking, a staff note and message, an inbound reply and a TOTP
    enrolment; returns the strings typed in, and the booking's private-link token."""
    reference = _submit_request(client)
    seed_schedule(app)
    booker = app.test_client()
    walk_booking(booker, details=BOOKING_DETAILS)
    token = _booked(booker)
    colleague = _staff(app, "caseworker-at-rest@example.org", "shs")
    assert _step(colleague, reference, "note", {"text": STAFF_NOTE}).status_code == 302
    _step(colleague, reference, "message", {"text": STAFF_MESSAGE, "wait": "y"})
    _reply(app, reference)
    _reply(app, "SD-1999-99999", STRANGER)  # matches nothing: kept whole, for the coordinator
    factor = _enrol(app, mailbox)
    typed = [
        *REQUEST_DETAILS.values(),
        SUBJECT_NAME,
        NEED,
        ACCESSIBILITY_NOTE,
        *BOOKING_DETAILS.values(),
        BOOKING_NOTE,
        BOOKING_SUBJECT,
        STAFF_NOTE,
        STAFF_MESSAGE,
        REPLY_TEXT,
        STRANGER,
        "ZITIERTER-VERLAUF",  # in the raw message of the unmatched one
        *factor,
    ]
    # "33758" is the postcode of a town and sits in plain configuration; it is no secret.
    return [value for value in typed if value != "33758"], token


def _raw_values(engine: Engine) -> list[tuple[str, str, str]]:
    """Every text and binary value of every table, read with plain SQL (no model types)."""
    found = []
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if not isinstance(column["type"], String | Text | LargeBinary) and str(
                    column["type"]
                ).upper() not in {"JSON", "JSONB", "BLOB", "BYTEA"}:
                    continue
                rows = connection.execute(text(f'SELECT "{column["name"]}" FROM "{table}"'))
                for (value,) in rows:
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    found.append((table, column["name"], str(value)))
    return found


def _leaks(values: list[tuple[str, str, str]], secrets: list[str]) -> list[str]:
    return [
        f"{table}.{column}: {secret!r}"
        for table, column, value in values
        for secret in secrets
        if secret.lower() in value.lower()
    ]


def test_nothing_typed_in_is_readable_in_any_row_or_in_the_database_file(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    secrets, token = _everything(app, client, mailbox)
    engine = get_db(app).engine
    values = _raw_values(engine)
    assert {table for table, _column, _value in values} >= {
        "help_request",
        "booking",
        "request_event",
        "outbox_message",
        "inbound_mail",
        "staff_user",
    }
    with get_db(app).readers() as session:  # the unmatched message is there, readable by the portal
        from portal.models import InboundMail

        kept = [m.raw for m in session.scalars(select(InboundMail)) if m.kind == "unmatched"]
        assert len(kept) == 1 and b"ZITIERTER-VERLAUF" in (kept[0] or b"")
    assert _leaks(values, [*secrets, token]) == []
    # Pending emails carry the private link only encrypted; delivered ones not at all.
    deliver(app)
    assert _leaks(_raw_values(engine), [*secrets, token]) == []
    # The models still read everything back.
    with get_db(app).readers() as session:
        stored = {(r.need_text, r.street) for r in session.scalars(select(HelpRequest))}
        assert (NEED, REQUEST_DETAILS["street"]) in stored
        assert session.scalars(select(Booking)).one().note.startswith("GEHEIME-NOTIZ")
    if engine.dialect.name == "sqlite":
        engine.dispose()  # the WAL keeps what was written since the last checkpoint
        database = Path(engine.url.database or "")
        for path in (database, database.with_name(database.name + "-wal")):
            if path.exists():
                content = path.read_bytes()
                for secret in [*secrets, token]:
                    assert secret.encode() not in content, (path.name, secret)
                    assert secret.encode("utf-16-le") not in content, (path.name, secret)


def test_a_draft_holds_its_answers_encrypted(app: Flask, client: FlaskClient) -> None:
    answer_all(client, overrides={"need": {"need": NEED}})
    with get_db(app).engine.connect() as connection:
        [stored] = connection.execute(text("SELECT answers FROM request_draft")).scalars()
    assert stored.startswith("E1:") and "BEDARF" not in stored
    with get_db(app).readers() as session:
        assert session.scalars(select(RequestDraft)).one().answers["need"] == NEED


def test_a_delivered_email_keeps_only_its_metadata(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    seed_schedule(app)
    walk_booking(client, details=BOOKING_DETAILS)
    token = _booked(client)
    with get_db(app).readers() as session:
        waiting = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "booking_confirmation")
        ).one()
        assert token in waiting.body_text and waiting.attachment_data  # decrypted, while waiting
    deliver(app)
    [received] = mailbox.to(BOOKING_DETAILS["email"])
    assert token in received.as_string()
    with get_db(app).readers() as session:
        sent = session.get_one(OutboxMessage, waiting.id)
        assert sent.status == "sent" and sent.sent_at is not None
        assert sent.message_id == waiting.message_id and sent.kind == "booking_confirmation"
        assert (sent.body_text, sent.body_html) == ("", "")
        assert sent.attachment_data is None and sent.encrypted_mime is None
        assert sent.recipient == BOOKING_DETAILS["email"]  # for a bounce that comes back later
        # the other emails (the town's notification) lost their content as well
        assert all(m.body_text == "" for m in session.scalars(select(OutboxMessage)))


def test_a_failed_email_keeps_its_content_encrypted_for_a_retry(
    app: Flask, client: FlaskClient
) -> None:
    answer_all(client)
    submit(client)
    deliver(app)  # no mail server listens: the attempt fails and is retried later
    with get_db(app).engine.connect() as connection:
        bodies = connection.execute(text("SELECT body_text FROM outbox_message")).scalars().all()
    assert bodies and all(body.startswith("E1:") for body in bodies)


def test_contacts_are_found_by_their_blind_index_never_by_their_text(
    app: Flask, client: FlaskClient
) -> None:
    from portal.models.encrypted import EncryptedComparison

    seed_schedule(app)
    walk_booking(client, details=BOOKING_DETAILS)
    confirm(client)
    with get_db(app).readers() as session:
        by_email = select(Booking.id).where(Booking.email_index == " Anna.Buchung@EXAMPLE.org")
        by_phone = select(Booking.id).where(Booking.phone_index == "+49 5246 55 44 33")
        assert len(session.scalars(by_email).all()) == 1
        assert len(session.scalars(by_phone).all()) == 1
        assert session.scalars(
            select(HelpRequest.id).where(HelpRequest.email_index == BOOKING_DETAILS["email"])
        ).all()
        with pytest.raises(EncryptedComparison):
            select(Booking).where(Booking.email == BOOKING_DETAILS["email"])
        with pytest.raises(EncryptedComparison):
            select(HelpRequest).where(HelpRequest.requester_name.like("%Anna%"))
        with pytest.raises(EncryptedComparison):
            select(HelpRequest).order_by(HelpRequest.requester_name.desc())
    with get_db(app).engine.connect() as connection:
        indexes = connection.execute(text("SELECT email_index FROM booking")).scalars().all()
    assert indexes and all(re.fullmatch(r"[0-9a-f]{64}", value) for value in indexes)


def test_the_totp_secret_is_stored_encrypted(app: Flask, client: FlaskClient) -> None:
    from tests.integration.test_staff import make_staff

    secret = make_staff(app, "totp-at-rest@example.org", "verl")
    with get_db(app).engine.connect() as connection:
        stored = connection.execute(text("SELECT totp_secret FROM staff_user")).scalar_one()
    assert secret not in stored and stored.startswith("E1:")
    with get_db(app).readers() as session:
        assert session.scalars(select(StaffUser.totp_secret)).one() == secret


def test_clearing_a_booking_empties_its_blind_indexes_and_deleting_a_request_leaves_none(
    app: Flask, client: FlaskClient
) -> None:
    from datetime import timedelta

    from portal.models import utcnow
    from portal.services import retention

    seed_schedule(app)
    walk_booking(client, details=BOOKING_DETAILS)
    confirm(client)
    with get_db(app).session() as session:
        booking = session.scalars(select(Booking)).one()
        assert booking.email_index and booking.phone_index
        after_appointment = booking.slot_end + timedelta(days=31)
        retention.purge(session, retention.Periods(), after_appointment)
    with get_db(app).engine.connect() as connection:
        indexes = connection.execute(text("SELECT email_index, phone_index FROM booking"))
        assert [tuple(row) for row in indexes] == [("", "")]
    with get_db(app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        request.status, request.outcome = "closed", "helped"
        request.closed_at = utcnow() - timedelta(days=400)
    with get_db(app).session() as session:
        assert retention.purge(session, retention.Periods()).requests == 1
    with get_db(app).engine.connect() as connection:
        for table in ("help_request", "booking"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


def test_the_staff_inbox_lists_requests_without_decrypting_them(
    app: Flask, client: FlaskClient
) -> None:
    reference = _submit_request(client)
    with get_db(app).engine.begin() as connection:  # a value no key can open
        connection.execute(text("UPDATE help_request SET need_text = 'E1:00000000:AAAA'"))
    colleague = _staff(app, "inbox-at-rest@example.org", "shs")
    listing = colleague.get("/de/staff/")
    assert listing.status_code == 200 and reference in listing.get_data(as_text=True)
