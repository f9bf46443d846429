"""Column types that encrypt on the way into the database and decrypt on the way out.

Models and services keep working with plaintext attributes; only the stored form changes
(see :mod:`portal.crypto`). An empty string stays empty, so "no email given" is still a plain
``email != ''`` in SQL; everything else is ciphertext, and SQL can no longer compare,
search or sort it: exact lookups go through a :class:`BlindIndex` column instead.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import LargeBinary, String, Text, event, inspect
from sqlalchemy.orm import Mapper, defer
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.sql import ClauseElement, operators
from sqlalchemy.types import TypeDecorator

from ..crypto import ring_of


class EncryptedComparison(TypeError):
    """SQL was asked to compare, search or sort ciphertext, which would silently find nothing."""


# What SQL may still ask of an encrypted column: is it empty, is it NULL.
_ALLOWED = {operators.eq, operators.ne, operators.is_, operators.is_not}


def _empty_or_sql(other: Any) -> bool:
    """Whether ``other`` is "" or None, or an SQL element (SQLAlchemy compares columns with
    columns internally, e.g. when it looks a column up in a dictionary)."""
    return (
        other is None
        or (isinstance(other, str) and other == "")
        or isinstance(other, ClauseElement)
    )


class _Refusing(TypeDecorator.Comparator[Any]):
    """Refuses every comparison with ciphertext except "is it empty" and "is it NULL"."""

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        """Pass emptiness tests through; raise :class:`EncryptedComparison` for the rest."""
        if op in _ALLOWED and len(other) == 1 and _empty_or_sql(other[0]):
            return super().operate(op, *other, **kwargs)
        raise EncryptedComparison(
            f"{self.expr} is encrypted: SQL cannot {getattr(op, '__name__', op)} it; "
            "use its blind index for exact lookups, or filter in Python"
        )

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
        """Nothing is compared with ciphertext from the other side either."""
        return self.operate(op, other, **kwargs)


class EncryptedText(TypeDecorator[str]):
    """Text stored with AES-256-GCM under the newest key; "" stays "" and None stays None."""

    impl = Text
    cache_ok = True
    comparator_factory = _Refusing

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        """Encrypt a non-empty value."""
        if not value:
            return value
        return ring_of(dialect).encrypt_text(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        """Decrypt a non-empty value."""
        if not value:
            return value
        return ring_of(dialect).decrypt_text(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored encrypted as text; always encrypted, even when empty."""

    impl = Text
    cache_ok = True
    comparator_factory = _Refusing

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        """Serialise and encrypt."""
        if value is None:
            return None
        return ring_of(dialect).encrypt_text(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        """Decrypt and parse."""
        if value is None:
            return None
        return json.loads(ring_of(dialect).decrypt_text(value))


class EncryptedBytes(TypeDecorator[bytes]):
    """Binary data (attachments, raw messages) stored encrypted; None stays None."""

    impl = LargeBinary
    cache_ok = True
    comparator_factory = _Refusing

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        """Encrypt."""
        if value is None:
            return None
        return ring_of(dialect).encrypt_bytes(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        """Decrypt."""
        if value is None:
            return None
        return ring_of(dialect).decrypt_bytes(bytes(value))


ENCRYPTED_TYPES = (EncryptedText, EncryptedJSON, EncryptedBytes)


class BlindIndex(TypeDecorator[str]):
    """The keyed hash of an email address or phone number, for exact lookups in SQL.

    Whatever is bound to such a column, stored or compared, is normalised and hashed
    first: ``Booking.email_index == "Elif@Example.org"`` finds the bookings made with that
    address, and the plaintext never reaches the database.
    """

    impl = String(64)
    cache_ok = True

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        """Hash a plaintext value (an already hashed one is not expected here)."""
        if value is None:
            return None
        return ring_of(dialect).blind_index(self.kind, value)


def without_content(model: type) -> list[Any]:
    """Loader options that leave ``model``'s encrypted columns unloaded (loaded, and
    decrypted, only if something reads them): for lists that show no content."""
    mapper: Mapper[Any] = inspect(model)
    columns = [
        getattr(model, prop.key)
        for prop in mapper.column_attrs
        if isinstance(prop.columns[0].type, ENCRYPTED_TYPES)
    ]
    return [defer(column) for column in columns]


def index_contacts(model: type, pairs: dict[str, str]) -> None:
    """Keep ``model``'s blind index columns in step with the columns they index.

    ``pairs`` maps an index attribute to the plaintext attribute it hashes. The plaintext is
    copied into the index attribute at flush; the column type hashes it on the way out.
    """

    def _on_insert(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
        for index, source in pairs.items():
            setattr(target, index, getattr(target, source) or "")

    def _on_update(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
        for index, source in pairs.items():
            if get_history(target, source).has_changes():
                setattr(target, index, getattr(target, source) or "")

    event.listen(model, "before_insert", _on_insert)
    event.listen(model, "before_update", _on_update)
