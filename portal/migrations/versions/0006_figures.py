"""figures kept as counts

Counts per month, town, topic group, outcome, channel, response time and referral
destination, written when a request is anonymised, so the figures outlive the requests.

Revision ID: 9e1b0fig0009
Revises: 6b0e1hrs0006
Create Date: 2026-12-03 05:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e1b0fig0009"
down_revision: str | None = "6b0e1hrs0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "figure_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=10), nullable=False),
        sa.Column("topic_group", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.String(length=40), nullable=False),
        sa.Column("promise", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_figure_count_count")),
        sa.CheckConstraint(
            "measure IN ('request', 'response', 'referral')",
            name=op.f("ck_figure_count_measure"),
        ),
        sa.ForeignKeyConstraint(
            ["town_id"], ["town.id"], name=op.f("fk_figure_count_town_id_town")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure_count")),
        sa.UniqueConstraint(
            "month",
            "town_id",
            "measure",
            "topic_group",
            "outcome",
            "channel",
            "detail",
            "promise",
            name="uq_figure_count_cell",
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("figure_count")
