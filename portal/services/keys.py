"""Which key encrypts what, and moving every encrypted value to the newest key.

Rotation reads a batch of values under an old key (the column types decrypt them with
whichever key they name) and writes them back (encrypted with the newest key). The caller
commits after each batch: a rotation stopped half-way leaves rows under the old key, which
stays in the ring and keeps decrypting them, and the next run carries on where it stopped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    LargeBinary,
    String,
    Table,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from .. import crypto
from ..models import Base
from ..models.encrypted import ENCRYPTED_TYPES, EncryptedBytes

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class EncryptedColumn:
    """One encrypted column of one table."""

    table: Table
    column: Column[object]

    @property
    def name(self) -> str:
        """``table.column``, as ``keys status`` prints it."""
        return f"{self.table.name}.{self.column.name}"

    @property
    def binary(self) -> bool:
        """Whether the column holds bytes rather than text."""
        return isinstance(self.column.type, EncryptedBytes)


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column the models declare, in a stable order."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, ENCRYPTED_TYPES):
                found.append(EncryptedColumn(table, column))
    return found


def _key_id(column: EncryptedColumn) -> Any:
    """SQL for the key id written in front of each stored value (no decryption needed)."""
    start = len(crypto.PREFIX) + 1
    kind = LargeBinary() if column.binary else String()
    # Positions written inline: PostgreSQL needs the GROUP BY expression to equal the selected
    # one, and two sets of bind parameters would not.
    return func.substr(
        column.column,
        literal_column(str(start)),
        literal_column(str(crypto.KEY_ID_LENGTH)),
        type_=kind,
    )


def _filled(column: EncryptedColumn) -> Any:
    """Rows where the column holds a value (empty text is stored as it is, unencrypted)."""
    if column.binary:
        return column.column.is_not(None)
    return (column.column.is_not(None)) & (column.column != "")


def key_counts(session: Session) -> dict[str, Counter[str]]:
    """For each encrypted column, how many values each key id encrypts."""
    counts: dict[str, Counter[str]] = {}
    for column in encrypted_columns():
        rows = session.execute(
            select(_key_id(column), func.count()).where(_filled(column)).group_by(_key_id(column))
        )
        counts[column.name] = Counter({_as_text(kid): int(number) for kid, number in rows})
    return counts


def _as_text(kid: object) -> str:
    if isinstance(kid, bytes | bytearray | memoryview):
        return bytes(kid).decode("ascii", "replace")
    return str(kid)


def rotate_batch(
    session: Session,
    column: EncryptedColumn,
    current_id: str,
    after_id: int = 0,
    size: int = DEFAULT_BATCH,
) -> tuple[int, int] | None:
    """Re-encrypt up to ``size`` values not under ``current_id``, with ids above ``after_id``.

    Returns how many values it re-encrypted and the last id handled, or ``None`` when no
    such value is left in the column.
    """
    table = column.table
    current: str | bytes = current_id.encode("ascii") if column.binary else current_id
    stale = or_(_key_id(column) != current, _key_id(column).is_(None))
    rows = session.execute(
        select(table.c.id, column.column)
        .where(_filled(column), stale, table.c.id > after_id)
        .order_by(table.c.id)
        .limit(size)
        # Locked until the batch commits: a value the worker or the purge empties meanwhile
        # waits for the batch instead of being written back (PostgreSQL; SQLite writes one
        # transaction at a time anyway).
        .with_for_update()
    ).all()
    for row_id, value in rows:
        session.execute(
            update(table).where(table.c.id == row_id).values({column.column.name: value})
        )
    return (len(rows), int(rows[-1][0])) if rows else None
