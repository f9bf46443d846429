"""encryption at rest

Personal data moves to encrypted columns (see ``portal/crypto.py``): names, contact details,
addresses, free text, drafts, notes and messages, TOTP secrets, and stored email (outbox
and inbound). Those columns become TEXT (ciphertext is longer than the old limits; the forms
still enforce them), existing rows are encrypted in place with the newest key of the ring the
engine carries, and blind index columns hold keyed hashes of email and phone for exact
lookups. Emails already delivered lose their bodies and attachments.

Revision ID: a10e0enc0010
Revises: c12s0sec0012
Create Date: 2026-12-03 08:45:00.000000
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from portal import crypto

revision: str = "a10e0enc0010"
down_revision: str | None = "c12s0sec0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500

# Text columns that become encrypted, with their old length (None: already TEXT).
TEXT_COLUMNS: dict[str, dict[str, int | None]] = {
    "help_request": {
        "subject_name": 120,
        "need_text": None,
        "accessibility_note": 500,
        "requester_name": 120,
        "phone": 40,
        "email": 254,
        "street": 120,
        "postcode": 10,
        "city": 80,
    },
    "booking": {
        "subject_name": 120,
        "note": None,
        "booker_name": 120,
        "phone": 40,
        "email": 254,
        "street": 120,
        "postcode": 10,
        "city": 80,
    },
    "request_event": {"text": None},
    "referral": {"passed_on": None},
    "staff_user": {"totp_secret": 64},
    "outbox_message": {
        "recipient": 254,
        "reply_to": 254,
        "subject": 300,
        "body_text": None,
        "body_html": None,
    },
    "inbound_mail": {"sender": 254, "subject": 300, "body_text": None},
}
BYTES_COLUMNS = {
    "outbox_message": ("attachment_data", "encrypted_mime"),
    "inbound_mail": ("raw",),
}
# Blind indexes: (table, index column, indexed column, kind).
INDEXES = (
    ("help_request", "email_index", "email", "email"),
    ("help_request", "phone_index", "phone", "phone"),
    ("booking", "email_index", "email", "email"),
    ("booking", "phone_index", "phone", "phone"),
    ("outbox_message", "recipient_index", "recipient", "email"),
)


def upgrade() -> None:
    """Apply this revision: wider columns, blind indexes, then every row encrypted in place."""
    postgres = op.get_bind().dialect.name == "postgresql"
    triggers = _lift_sqlite_triggers()
    for table in sorted({table for table, *_rest in INDEXES}):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in [index for t, index, *_rest in INDEXES if t == table]:
                batch_op.add_column(
                    sa.Column(name, sa.String(length=64), server_default="", nullable=False)
                )
                batch_op.create_index(batch_op.f(f"ix_{table}_{name}"), [name], unique=False)
    for table, columns in TEXT_COLUMNS.items():
        widened = {name: length for name, length in columns.items() if length is not None}
        if widened:
            with op.batch_alter_table(table, schema=None) as batch_op:
                for name, length in widened.items():
                    batch_op.alter_column(
                        name, existing_type=sa.String(length=length), type_=sa.Text()
                    )
    with op.batch_alter_table("request_draft", schema=None) as batch_op:
        batch_op.alter_column(
            "answers",
            existing_type=sa.JSON(),
            type_=sa.Text(),
            postgresql_using="answers::text" if postgres else None,
        )
    _restore_sqlite_triggers(triggers)
    op.execute(
        "UPDATE outbox_message SET body_text = '', body_html = '', attachment_data = NULL,"
        " encrypted_mime = NULL WHERE status IN ('sent', 'bounced')"
    )
    ring = _Ring()
    for table, _index, column, kind in INDEXES:
        _convert(table, column, _hashing(ring, kind), target=_index)
    for table, columns in TEXT_COLUMNS.items():
        for column in columns:
            _convert(table, column, _encrypting_text(ring))
    _convert("request_draft", "answers", _encrypting_text(ring))
    for table, names in BYTES_COLUMNS.items():
        for column in names:
            _convert(table, column, lambda value: ring.get().encrypt_bytes(bytes(value)))


def downgrade() -> None:
    """Revert this revision: decrypt every row, then the old column types."""
    postgres = op.get_bind().dialect.name == "postgresql"
    ring = _Ring()
    for table, columns in TEXT_COLUMNS.items():
        for column in columns:
            _convert(table, column, _decrypting_text(ring))
    _convert("request_draft", "answers", _decrypting_text(ring))
    for table, names in BYTES_COLUMNS.items():
        for column in names:
            _convert(table, column, lambda value: ring.get().decrypt_bytes(bytes(value)))
    triggers = _lift_sqlite_triggers()
    with op.batch_alter_table("request_draft", schema=None) as batch_op:
        batch_op.alter_column(
            "answers",
            existing_type=sa.Text(),
            type_=sa.JSON(),
            postgresql_using="answers::json" if postgres else None,
        )
    for table, columns in TEXT_COLUMNS.items():
        narrowed = {name: length for name, length in columns.items() if length is not None}
        if narrowed:
            with op.batch_alter_table(table, schema=None) as batch_op:
                for name, length in narrowed.items():
                    batch_op.alter_column(
                        name, existing_type=sa.Text(), type_=sa.String(length=length)
                    )
    for table in sorted({table for table, *_rest in INDEXES}):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in [index for t, index, *_rest in INDEXES if t == table]:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{name}"))
                batch_op.drop_column(name)
    _restore_sqlite_triggers(triggers)


def _lift_sqlite_triggers() -> list[str]:
    """Drop (and return) SQLite triggers that name ``help_request``.

    Batch mode rebuilds ``help_request`` under a temporary name; SQLite refuses renaming it
    back while a trigger on ``audit_entry`` (migration 0004) refers to the missing table.
    """
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return []
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%help_request%'"
    ).all()
    for name, _sql in rows:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in rows]


def _restore_sqlite_triggers(statements: list[str]) -> None:
    """Create again the triggers :func:`_lift_sqlite_triggers` dropped."""
    for statement in statements:
        op.get_bind().exec_driver_sql(statement)


class _Ring:
    """The engine's key ring, looked up only when a row needs it (a new database has none)."""

    def __init__(self) -> None:
        self.ring: crypto.KeyRing | None = None

    def get(self) -> crypto.KeyRing:
        """The ring; :class:`crypto.KeysMissing` when the engine carries none."""
        if self.ring is None:
            self.ring = crypto.ring_of(op.get_bind().dialect)
        return self.ring


def _hashing(ring: _Ring, kind: str) -> Callable[[Any], Any]:
    def blind_index(value: Any) -> Any:
        return ring.get().blind_index(kind, value)

    return blind_index


def _encrypted_already(ring: _Ring, value: Any) -> bool:
    """Whether ``value`` is a ciphertext of this ring: a need text that merely begins with
    "E1:" is plaintext and gets encrypted like any other."""
    if not str(value).startswith(crypto.PREFIX):
        return False
    try:
        ring.get().decrypt_text(str(value))
    except crypto.CryptoError:
        return False
    return True


def _encrypting_text(ring: _Ring) -> Callable[[Any], Any]:
    def encrypt(value: Any) -> Any:
        return value if _encrypted_already(ring, value) else ring.get().encrypt_text(value)

    return encrypt


def _decrypting_text(ring: _Ring) -> Callable[[Any], Any]:
    def decrypt(value: Any) -> Any:
        return ring.get().decrypt_text(value) if str(value).startswith(crypto.PREFIX) else value

    return decrypt


def _convert(
    table: str, column: str, change: Callable[[Any], Any], target: str | None = None
) -> None:
    """Write ``change(value)`` of every non-empty ``column`` into ``target`` (or itself), in batches."""
    connection = op.get_bind()
    names = dict.fromkeys(("id", column, target or column))
    rows = sa.table(table, *(sa.column(name) for name in names))
    last = 0
    while True:
        batch = connection.execute(
            sa.select(rows.c.id, rows.c[column])
            .where(rows.c.id > last, rows.c[column].is_not(None))
            .order_by(rows.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for row_id, value in batch:
            if value != "":
                connection.execute(
                    sa.update(rows)
                    .where(rows.c.id == row_id)
                    .values({target or column: change(value)})
                )
        last = batch[-1][0]
