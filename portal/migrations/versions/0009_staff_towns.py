"""staff towns

A caseworker may work for several towns (covering a colleague's town during leave, say):
the towns move from ``staff_user.town_id`` to the association table ``staff_town``.

Revision ID: 0a9c1stf0009
Revises: 5a7f0acc0005
Create Date: 2026-12-03 06:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0a9c1stf0009"
down_revision: str | None = "5a7f0acc0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: copy each account's town into ``staff_town``, then drop the column."""
    op.create_table(
        "staff_town",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_town_staff_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["town_id"], ["town.id"], name=op.f("fk_staff_town_town_id_town")
        ),
        sa.PrimaryKeyConstraint("staff_id", "town_id", name=op.f("pk_staff_town")),
    )
    op.execute(
        "INSERT INTO staff_town (staff_id, town_id)"
        " SELECT id, town_id FROM staff_user WHERE town_id IS NOT NULL"
    )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_user_caseworker_town"), type_="check")
        batch_op.drop_constraint(op.f("fk_staff_user_town_id_town"), type_="foreignkey")
        batch_op.drop_column("town_id")


def downgrade() -> None:
    """Revert this revision: each account keeps its first town (lowest id)."""
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("town_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_staff_user_town_id_town"), "town", ["town_id"], ["id"]
        )
    op.execute(
        "UPDATE staff_user SET town_id ="
        " (SELECT MIN(town_id) FROM staff_town WHERE staff_town.staff_id = staff_user.id)"
    )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_staff_user_caseworker_town"), "role != 'caseworker' OR town_id IS NOT NULL"
        )
    op.drop_table("staff_town")
