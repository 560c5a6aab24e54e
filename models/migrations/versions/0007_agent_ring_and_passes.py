"""a rung agent's key before the whisper, and who passed on whom

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

``agent_calls.stage`` gains 'ring' (a rung agent presses a key before the whisper,
so a voicemail cannot take it); ``agent_passes`` keeps an agent from being offered a
caller they just passed on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_STAGES = "'pin', 'menu', 'whisper', 'connected', 'wrap_up', 'ended'"
NEW_STAGES = "'pin', 'ring', 'menu', 'whisper', 'connected', 'wrap_up', 'ended'"


def upgrade() -> None:
    op.create_table(
        "agent_passes",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("passed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_passes_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_agent_passes_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_id", "agent_id", name=op.f("pk_agent_passes")),
    )
    # Written by hand: autogenerate does not compare CHECK constraints.
    with op.batch_alter_table("agent_calls", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_agent_calls_stage"), type_="check")
        batch_op.create_check_constraint("stage", f"stage IN ({NEW_STAGES})")


def downgrade() -> None:
    op.execute("UPDATE agent_calls SET stage = 'ended' WHERE stage = 'ring'")
    with op.batch_alter_table("agent_calls", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_agent_calls_stage"), type_="check")
        batch_op.create_check_constraint("stage", f"stage IN ({OLD_STAGES})")
    op.drop_table("agent_passes")
