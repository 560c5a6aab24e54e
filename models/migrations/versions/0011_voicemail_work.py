"""voicemails as agents' work: who took one and when, who marked it done and when

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voicemails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("done_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_voicemails_taken_by_agents"),
            "agents",
            ["taken_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_voicemails_done_by_agents"),
            "agents",
            ["done_by"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("voicemails", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_voicemails_done_by_agents"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_voicemails_taken_by_agents"), type_="foreignkey")
        batch_op.drop_column("done_at")
        batch_op.drop_column("done_by")
        batch_op.drop_column("taken_at")
        batch_op.drop_column("taken_by")
