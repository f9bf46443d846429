"""receipts

The ``receipt`` table: what a printed receipt of a help request is checked against (the
reference, when it was received, the town), found by the keyed hash of its verification code,
with the code itself encrypted and an expiry of its own (``RETENTION_DAYS_RECEIPT``). It has no
foreign key to ``help_request``: a receipt outlives its request.

Requests sent before this migration get their receipt when their receipt page is first opened
(the period is a setting the migration cannot read, and a code nobody was shown proves
nothing), so no rows are written here.

Revision ID: e14r0rec0014
Revises: d13a0aud0013
Create Date: 2026-12-03 12:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision: str = "e14r0rec0014"
down_revision: str | None = "d13a0aud0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("received_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("town_slug", sa.String(length=20), nullable=False),
        sa.Column("expires_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_receipt_code_hash")),
        sa.UniqueConstraint("reference", name=op.f("uq_receipt_reference")),
    )
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.create_index("ix_receipt_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    """Revert this revision (every receipt is gone; printed ones no longer verify)."""
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.drop_index("ix_receipt_expires_at")
    op.drop_table("receipt")
