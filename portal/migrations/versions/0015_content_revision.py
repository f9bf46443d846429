"""content revision

The ``content_revision`` table: one counter per area of what the public pages show
(``catalogue``, ``towns``), raised in the same transaction as every change to it. Caches of
public pages and of search results are keyed by it.

Revision ID: f15c0rev0015
Revises: e14r0rec0014
Create Date: 2026-12-03 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision: str = "f15c0rev0015"
down_revision: str | None = "e14r0rec0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    table = op.create_table(
        "content_revision",
        sa.Column("area", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("area", name=op.f("pk_content_revision")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        table,
        [
            {"area": "catalogue", "revision": 1, "changed_at": now},
            {"area": "towns", "revision": 1, "changed_at": now},
        ],
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("content_revision")
