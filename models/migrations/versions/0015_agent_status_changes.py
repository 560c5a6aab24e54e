"""agents' status history: a row for every change of an agent's status, for occupancy;
indexes on when calls began and ended, which reports and /metrics filter on

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STATUSES = "'available', 'busy', 'wrap_up', 'break', 'offline'"


def upgrade() -> None:
    op.create_table(
        "agent_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_agent_status_changes_status")),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_status_changes_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_status_changes")),
    )
    op.create_index(
        "ix_agent_status_changes_agent_id_at", "agent_status_changes", ["agent_id", "at"]
    )
    # The history begins with each agent's status as it stands, since when it does.
    op.execute(
        "INSERT INTO agent_status_changes (agent_id, status, at) "
        "SELECT id, status, status_since FROM agents"
    )
    op.create_index(op.f("ix_calls_started_at"), "calls", ["started_at"])
    op.create_index(op.f("ix_calls_ended_at"), "calls", ["ended_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_calls_ended_at"), table_name="calls")
    op.drop_index(op.f("ix_calls_started_at"), table_name="calls")
    op.drop_index("ix_agent_status_changes_agent_id_at", table_name="agent_status_changes")
    op.drop_table("agent_status_changes")
