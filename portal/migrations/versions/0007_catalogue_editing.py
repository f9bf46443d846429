"""catalogue editing

Drafts of catalogue records (published only by an editor), each record's history of changes,
and a version on organisations, services and locations so a stale edit is refused.

Revision ID: 8d0c0cat0008
Revises: 9e1b0fig0009
Create Date: 2026-12-03 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision: str = "8d0c0cat0008"
down_revision: str | None = "9e1b0fig0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("catalogue_organization", "catalogue_service", "catalogue_location")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "catalogue_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["staff_user.id"],
            name=op.f("fk_catalogue_draft_updated_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_draft")),
        sa.UniqueConstraint("kind", "record_id", name=op.f("uq_catalogue_draft_kind")),
    )
    op.create_table(
        "catalogue_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_catalogue_change_staff_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_change")),
    )
    op.create_index(op.f("ix_catalogue_change_at"), "catalogue_change", ["at"], unique=False)
    op.create_index(
        op.f("ix_catalogue_change_record_id"), "catalogue_change", ["record_id"], unique=False
    )
    for table in VERSIONED:
        op.add_column(table, sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    """Revert this revision."""
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
    op.drop_index(op.f("ix_catalogue_change_record_id"), table_name="catalogue_change")
    op.drop_index(op.f("ix_catalogue_change_at"), table_name="catalogue_change")
    op.drop_table("catalogue_change")
    op.drop_table("catalogue_draft")
