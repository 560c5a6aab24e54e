"""what waiting callers are told: the wait each caller had and the time their agent
spent on them, the position and wait last announced, the hold music's turn

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("ahead_announced", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("expected_by", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("hold_turn_ends", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("hold_music_failed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("handled_seconds", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_calls_answered_at"), ["answered_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_index(batch.f("ix_calls_answered_at"))
        for column in (
            "handled_seconds",
            "answered_at",
            "hold_music_failed",
            "hold_turn_ends",
            "expected_by",
            "ahead_announced",
        ):
            batch.drop_column(column)
