"""calls wait at 'answered' (after an answer) and 'confirm' (a refund or freeze read
back), remembering the option and what it acts on

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_STAGES = (
    "'language', 'number', 'secret', 'agent_offer', 'menu', 'queued', "
    "'connected', 'returning', 'after_queue', 'voicemail', 'rating', 'ended'"
)
NEW_STAGES = (
    "'language', 'number', 'secret', 'agent_offer', 'menu', 'answered', 'confirm', "
    "'queued', 'connected', 'returning', 'after_queue', 'voicemail', 'rating', 'ended'"
)


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("option_key", sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column("option_subject", sa.String(length=64), nullable=True))
        # Written by hand: autogenerate does not compare CHECK constraints.
        batch_op.drop_constraint(op.f("ck_calls_stage"), type_="check")
        batch_op.create_check_constraint("stage", f"stage IN ({NEW_STAGES})")


def downgrade() -> None:
    # Calls waiting at the new stages are back at their menu.
    op.execute("UPDATE calls SET stage = 'menu' WHERE stage IN ('answered', 'confirm')")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_calls_stage"), type_="check")
        batch_op.create_check_constraint("stage", f"stage IN ({OLD_STAGES})")
        batch_op.drop_column("option_subject")
        batch_op.drop_column("option_key")
