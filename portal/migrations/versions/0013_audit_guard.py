"""audit entries keep their author

Since migration 0011 an audit entry names its author by account id (no foreign key) and by
``staff_label``. The append-only guard of migration 0004 still let ``staff_id`` become NULL
(for the foreign key's ON DELETE SET NULL, now gone) and did not know ``staff_label``: now
neither can change. Only ``request_id`` may still become NULL, when its request is deleted.

Revision ID: d13a0aud0013
Revises: a10e0enc0010
Create Date: 2026-12-03 09:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "d13a0aud0013"
down_revision: str | None = "a10e0enc0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_guard(author: str) -> str:
    return f"""
    CREATE TRIGGER audit_entry_append_only BEFORE UPDATE ON audit_entry
    WHEN NOT (
        NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
        AND NEW.reference = OLD.reference AND NEW.detail = OLD.detail
        AND NEW.address = OLD.address
        AND {author}
        AND (NEW.request_id IS OLD.request_id OR NEW.request_id IS NULL)
    )
    BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END
    """


def _postgres_guard(author: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION audit_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
               AND NEW.reference = OLD.reference AND NEW.detail = OLD.detail
               AND NEW.address = OLD.address
               AND {author}
               AND (NEW.request_id IS NOT DISTINCT FROM OLD.request_id OR NEW.request_id IS NULL)
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit entries cannot be changed';
        END IF;
        IF EXISTS (
            SELECT 1 FROM help_request
            WHERE help_request.id = OLD.request_id AND help_request.anonymised_at IS NULL
        ) THEN
            RAISE EXCEPTION 'audit entries of a request are kept while it exists';
        END IF;
        RETURN OLD;
    END
    $$
    """


_STRICT = {
    "sqlite": "NEW.staff_id IS OLD.staff_id AND NEW.staff_label = OLD.staff_label",
    "postgresql": "NEW.staff_id IS NOT DISTINCT FROM OLD.staff_id"
    " AND NEW.staff_label = OLD.staff_label",
}
_LOOSE = {
    "sqlite": "(NEW.staff_id IS OLD.staff_id OR NEW.staff_id IS NULL)",
    "postgresql": "(NEW.staff_id IS NOT DISTINCT FROM OLD.staff_id OR NEW.staff_id IS NULL)",
}


def _install(authors: dict[str, str]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only")
        op.execute(_sqlite_guard(authors["sqlite"]))
    elif dialect == "postgresql":
        op.execute(_postgres_guard(authors["postgresql"]))


def upgrade() -> None:
    """Apply this revision."""
    _install(_STRICT)


def downgrade() -> None:
    """Revert this revision."""
    _install(_LOOSE)
