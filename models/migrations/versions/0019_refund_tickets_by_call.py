"""refund tickets indexed by the call that opened them: the agent's whisper reads a
caller's ticket by their call, and scanned the table for it

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_refund_tickets_call_id", "refund_tickets", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_refund_tickets_call_id", table_name="refund_tickets")
