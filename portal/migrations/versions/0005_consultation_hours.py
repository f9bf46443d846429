"""consultation hours: closures for part of a day

A closure may start and end at a time of day (training in the afternoon); without times it
closes whole days, as before.

Revision ID: 6b0e1hrs0006
Revises: 38514e0afe9a
Create Date: 2026-12-03 05:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6b0e1hrs0006"
down_revision: str | None = "38514e0afe9a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("consultation_closure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_time", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("end_time", sa.Time(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("consultation_closure", schema=None) as batch_op:
        batch_op.drop_column("end_time")
        batch_op.drop_column("start_time")
