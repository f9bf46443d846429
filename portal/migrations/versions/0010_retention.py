"""retention

Consent as given (when, for what, under which version of the privacy notice) on requests and
bookings, and the marks that let the retention purge find what it has cleared already
without reading personal columns: ``booking.cleared_at`` (the booker's details are gone
after the appointment) and ``outbox_message.cleared_at`` (a sent email's body is gone).

Revision ID: b11r0ret0011
Revises: 0a9c1stf0009
Create Date: 2026-12-03 08:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

revision: str = "b11r0ret0011"
down_revision: str | None = "0a9c1stf0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONSENT = ("help_request", "booking")
# SQLite refuses to rebuild ``help_request`` (as dropping a column does) while this trigger of
# migration 0004 names it; the downgrade drops it for the rebuild and puts it back unchanged.
_SQLITE_KEPT_TRIGGER = """
    CREATE TRIGGER audit_entry_kept BEFORE DELETE ON audit_entry
    WHEN EXISTS (
        SELECT 1 FROM help_request
        WHERE help_request.id = OLD.request_id AND help_request.anonymised_at IS NULL
    )
    BEGIN SELECT RAISE(ABORT, 'audit entries of a request are kept while it exists'); END
    """


def upgrade() -> None:
    """Apply this revision."""
    for table in _CONSENT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("consented_at", UTCDateTime(timezone=True), nullable=True))
            batch_op.add_column(
                sa.Column("consent_purpose", sa.String(length=20), server_default="", nullable=False)
            )
            batch_op.add_column(
                sa.Column("privacy_version", sa.String(length=20), server_default="", nullable=False)
            )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cleared_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cleared_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_kept")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("cleared_at")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("cleared_at")
    for table in reversed(_CONSENT):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("privacy_version")
            batch_op.drop_column("consent_purpose")
            batch_op.drop_column("consented_at")
    if sqlite:
        op.execute(_SQLITE_KEPT_TRIGGER)
