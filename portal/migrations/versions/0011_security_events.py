"""security events

The security event log (``security_event``); growing sign-in delays instead of an hourly
lock (``staff_user.failed_window_start`` becomes ``signin_wait_until``); audit entries that
keep naming their author after the account is deleted (no foreign key on
``audit_entry.staff_id``, and the author's name copied into ``staff_label``).

Revision ID: c12s0sec0012
Revises: b11r0ret0011
Create Date: 2026-12-03 08:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision: str = "c12s0sec0012"
down_revision: str | None = "b11r0ret0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The append-only triggers of migration 0004: a batch rebuild of audit_entry on SQLite
# drops them with the old table, so they are dropped first and created again after.
_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER audit_entry_append_only BEFORE UPDATE ON audit_entry
    WHEN NOT (
        NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
        AND NEW.reference = OLD.reference AND NEW.detail = OLD.detail
        AND NEW.address = OLD.address
        AND (NEW.staff_id IS OLD.staff_id OR NEW.staff_id IS NULL)
        AND (NEW.request_id IS OLD.request_id OR NEW.request_id IS NULL)
    )
    BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END
    """,
    """
    CREATE TRIGGER audit_entry_kept BEFORE DELETE ON audit_entry
    WHEN EXISTS (
        SELECT 1 FROM help_request
        WHERE help_request.id = OLD.request_id AND help_request.anonymised_at IS NULL
    )
    BEGIN SELECT RAISE(ABORT, 'audit entries of a request are kept while it exists'); END
    """,
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _drop_sqlite_triggers() -> None:
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_kept")


def _create_sqlite_triggers() -> None:
    if _sqlite():
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "security_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=32), server_default="", nullable=False),
        sa.Column("network", sa.String(length=49), server_default="", nullable=False),
        sa.Column("detail", sa.String(length=100), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_event")),
    )
    with op.batch_alter_table("security_event", schema=None) as batch_op:
        batch_op.create_index("ix_security_event_at", ["at"], unique=False)
    op.execute("ALTER TABLE staff_user RENAME COLUMN failed_window_start TO signin_wait_until")
    # A wait from the old hourly window means nothing now; every account starts afresh.
    op.execute("UPDATE staff_user SET signin_wait_until = NULL, failed_signins = 0")
    _drop_sqlite_triggers()
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("staff_label", sa.String(length=254), server_default="", nullable=False)
        )
        batch_op.drop_constraint("fk_audit_entry_staff_id_staff_user", type_="foreignkey")
    _create_sqlite_triggers()
    # Existing entries learn their author's name while the accounts are still there.
    op.execute(
        "UPDATE audit_entry SET staff_label = (SELECT CASE WHEN staff_user.display_name != ''"
        " THEN staff_user.display_name ELSE staff_user.email END FROM staff_user"
        " WHERE staff_user.id = audit_entry.staff_id) WHERE staff_id IS NOT NULL"
    )


def downgrade() -> None:
    """Revert this revision (entries of deleted accounts lose their author's id)."""
    op.execute(
        "UPDATE audit_entry SET staff_id = NULL WHERE staff_id IS NOT NULL AND staff_id NOT IN"
        " (SELECT id FROM staff_user)"
    )
    _drop_sqlite_triggers()
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_audit_entry_staff_id_staff_user",
            "staff_user",
            ["staff_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_column("staff_label")
    _create_sqlite_triggers()
    op.execute("ALTER TABLE staff_user RENAME COLUMN signin_wait_until TO failed_window_start")
    with op.batch_alter_table("security_event", schema=None) as batch_op:
        batch_op.drop_index("ix_security_event_at")
    op.drop_table("security_event")
