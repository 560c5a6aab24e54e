"""a caller in an agent's room: when they reached it, the room's instance, when each
side joined, the talk time, and the stage of a caller on the way back to the queue

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_STAGES = (
    "'language', 'number', 'secret', 'agent_offer', 'menu', 'queued', "
    "'connected', 'after_queue', 'voicemail', 'rating', 'ended'"
)
NEW_STAGES = (
    "'language', 'number', 'secret', 'agent_offer', 'menu', 'queued', "
    "'connected', 'returning', 'after_queue', 'voicemail', 'rating', 'ended'"
)
TIMES = ("connected_at", "caller_joined_at", "agent_joined_at")


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        for column in TIMES:
            batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("conference_sid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("talk_seconds", sa.Integer(), nullable=True))
        # Written by hand: autogenerate does not compare CHECK constraints.
        batch_op.drop_constraint(op.f("ck_calls_stage"), type_="check")
        batch_op.create_check_constraint("stage", f"stage IN ({NEW_STAGES})")


def downgrade() -> None:
    # A caller on the way back to the queue is, for the old schema, still queued.
    op.execute("UPDATE calls SET stage = 'queued' WHERE stage = 'returning'")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_calls_stage"), type_="check")
        batch_op.create_check_constraint("stage", f"stage IN ({OLD_STAGES})")
        batch_op.drop_column("talk_seconds")
        batch_op.drop_column("conference_sid")
        for column in reversed(TIMES):
            batch_op.drop_column(column)
