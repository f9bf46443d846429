"""`flask --app portal keys …`: a new key, rotation in batches that may stop half-way, retiring
the old key; and migration 0012 encrypting rows written before it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import make_url, select, text
from sqlalchemy.orm import Session

from portal import create_app, crypto, migrate
from portal.db import get_db, make_engine
from portal.models import HelpRequest, OutboxMessage, RequestDraft, StaffUser, Town
from portal.services import keys
from tests.booking_support import confirm, seed_schedule, walk_booking
from tests.conftest import answer_all, submit
from tests.integration.test_staff import make_staff

NEED = "Meine Mutter kann nicht mehr allein einkaufen. GEHEIMER-TEXT"


def _column(name: str) -> keys.EncryptedColumn:
    [column] = [c for c in keys.encrypted_columns() if c.name == name]
    return column


def _totals(app: Flask) -> dict[str, int]:
    with get_db(app).session() as session:
        counts = keys.key_counts(session)
    totals: dict[str, int] = {}
    for column_counts in counts.values():
        for kid, number in column_counts.items():
            totals[kid] = totals.get(kid, 0) + number
    return totals


def _reads_everything(app: Flask, secret: str) -> None:
    with get_db(app).readers() as session:
        stored = {(r.need_text, r.requester_name) for r in session.scalars(select(HelpRequest))}
        assert (NEED, "Elif Demir") in stored
        assert session.scalars(select(StaffUser.totp_secret)).one() == secret
        outbox = list(session.scalars(select(OutboxMessage)))
        assert all(m.body_text for m in outbox)
        [ics] = [m.attachment_data for m in outbox if m.attachment_data is not None]
        assert ics.startswith(b"BEGIN:VCALENDAR")


def test_a_rotation_stopped_half_way_loses_nothing_and_the_old_key_goes_last(
    app: Flask, client: FlaskClient, app_config: dict[str, Any]
) -> None:
    answer_all(client)
    submit(client)
    seed_schedule(app)
    booker = app.test_client()
    walk_booking(booker)  # its confirmation waits in the outbox with an .ics attachment
    assert confirm(booker).status_code == 302
    secret = make_staff(app, "rotation@example.org", "verl")
    old = get_db(app).keyring.current_id
    added = app.test_cli_runner().invoke(args=["keys", "generate", "--add"])
    assert added.exit_code == 0, added.output
    rotated = create_app(app_config)  # every process reads the key file when it starts
    try:
        new = get_db(rotated).keyring.current_id
        assert new != old and get_db(rotated).keyring.key_ids == (new, old)
        runner = rotated.test_cli_runner()
        assert "values under older keys" in runner.invoke(args=["keys", "status"]).output
        before = _totals(rotated)[old]
        # One batch of one value, committed; then the process stops.
        with get_db(rotated).session() as session:
            assert keys.rotate_batch(session, _column("help_request.need_text"), new, 0, 1)
        assert _totals(rotated) == {old: before - 1, new: 1}
        _reads_everything(rotated, secret)
        refused = runner.invoke(args=["keys", "retire", old])
        assert refused.exit_code != 0 and "still need" in refused.output
        result = runner.invoke(args=["keys", "rotate", "--batch-size", "2"])
        assert result.exit_code == 0, result.output
        assert _totals(rotated) == {new: before}
        assert (
            "Every value is under the newest key." in runner.invoke(args=["keys", "status"]).output
        )
        assert runner.invoke(args=["keys", "retire", old]).exit_code == 0
        key_file = Path(rotated.instance_path) / crypto.KEY_FILE
        assert len(crypto.parse_key_file(key_file.read_text("utf-8"))[0]) == 1
    finally:
        get_db(rotated).engine.dispose()
    after = create_app(app_config)
    try:
        assert get_db(after).keyring.key_ids == (new,)
        _reads_everything(after, secret)
    finally:
        get_db(after).engine.dispose()


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind under test, to migrate up and down freely."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'before.sqlite'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_scratch"
    server = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    server.dispose()


def test_migration_0012_encrypts_rows_written_before_it_and_its_downgrade_decrypts(
    scratch_url: str,
) -> None:
    engine = make_engine(scratch_url)
    ring = crypto.KeyRing.from_text([crypto.new_key()], crypto.new_key())
    crypto.attach(engine, ring)
    migrate.upgrade(engine)
    with Session(engine) as session, session.begin():
        town = Town(slug="verl", name="Verl", postcodes="33415", inbox_email="i@example.org")
        session.add(town)
        session.flush()
        session.add(
            HelpRequest(
                reference="SD-2026-00001",
                town_id=town.id,
                respond_by=date(2026, 12, 4),
                locale="de",
                need_text=NEED,
                urgency="normal",
                contact_method="callback",
                requester_name="Elif Demir",
                email="Elif@example.org",
                phone="05207 123456",
                status_token_hash="a" * 64,
            )
        )
        session.add(
            RequestDraft(
                key_hash="b" * 64,
                answers={"need": NEED, "name": "Elif Demir"},
                expires_at=datetime(2026, 12, 5, tzinfo=UTC),
            )
        )
    migrate.downgrade(engine, "c12s0sec0012")
    with engine.connect() as connection:
        plain = connection.execute(text("SELECT need_text, email FROM help_request")).one()
        assert tuple(plain) == (NEED, "Elif@example.org")
        answers = connection.execute(text("SELECT answers FROM request_draft")).scalar_one()
        assert "Elif Demir" in str(answers)
        connection.execute(
            text(
                "INSERT INTO outbox_message (message_id, kind, recipient, reply_to, subject,"
                " body_text, body_html, locale, status, attempts, created_at, next_attempt_at,"
                " last_error, attachment_data) VALUES ('<1@x>', 'booking_confirmation',"
                " 'elif@example.org', '', 'Termin', 'LINK-IM-TEXT', '<p>LINK</p>', 'de', 'sent',"
                " 1, '2026-12-01', '2026-12-01', '', :data)"
            ),
            {"data": b"BEGIN:VCALENDAR"},
        )
        connection.commit()
    migrate.upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT need_text, email, email_index, phone_index FROM help_request")
        ).one()
        assert row[0].startswith("E1:") and row[1].startswith("E1:")
        assert row[2] == ring.blind_index("email", "elif@example.org")
        assert row[3] == ring.blind_index("phone", "+49 5207 123456")
        sent = connection.execute(
            text("SELECT body_text, body_html, attachment_data, recipient FROM outbox_message")
        ).one()
        assert tuple(sent[:3]) == ("", "", None) and sent[3].startswith("E1:")
        stored = connection.execute(text("SELECT answers FROM request_draft")).scalar_one()
        assert stored.startswith("E1:") and "Elif" not in stored
    with Session(engine) as session:
        assert session.scalars(select(HelpRequest.need_text)).one() == NEED
        assert session.scalars(select(RequestDraft.answers)).one()["name"] == "Elif Demir"
        assert session.scalars(select(OutboxMessage.recipient)).one() == "elif@example.org"
    engine.dispose()
