"""callbacks that happen: a callback keeps its caller's place, is offered to agents,
tried and retried; each attempt is recorded; agents' calls name the callback they
are on; a customer called back has a stage of their own

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_STAGES = (
    "'language', 'number', 'secret', 'agent_offer', 'menu', 'answered', 'confirm', "
    "'queued', 'connected', 'returning', 'after_queue', 'voicemail', 'rating', 'ended'"
)
NEW_STAGES = (
    "'language', 'number', 'secret', 'agent_offer', 'menu', 'answered', 'confirm', "
    "'queued', 'connected', 'returning', 'callback', 'after_queue', 'voicemail', "
    "'rating', 'ended'"
)
OLD_STATUSES = "'open', 'done'"
NEW_STATUSES = "'open', 'calling', 'done', 'unreachable'"
TIMES = ("queued_at", "due_at", "offered_at", "closed_at")


def upgrade() -> None:
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        for column in TIMES:
            batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        for column in ("offered_agent_id", "agent_id"):
            batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))
            batch_op.create_foreign_key(
                op.f(f"fk_callback_requests_{column}_agents"),
                "agents",
                [column],
                ["id"],
                ondelete="SET NULL",
            )
        # Written by hand: autogenerate does not compare CHECK constraints.
        batch_op.drop_constraint(op.f("ck_callback_requests_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({NEW_STATUSES})")
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("agent_call_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_call_id"],
            ["agent_calls.id"],
            name=op.f("fk_callback_attempts_agent_call_id_agent_calls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_callback_attempts_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callback_requests.id"],
            name=op.f("fk_callback_attempts_callback_id_callback_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_callback_attempts_call_sid")),
    )
    op.create_index(op.f("ix_callback_attempts_callback_id"), "callback_attempts", ["callback_id"])
    # One open attempt per callback: the database refuses a second, from any server.
    op.create_index(
        "uq_callback_attempts_open",
        "callback_attempts",
        ["callback_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    with op.batch_alter_table("agent_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_agent_calls_callback_id_callback_requests"),
            "callback_requests",
            ["callback_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_calls_stage"), type_="check")
        batch_op.create_check_constraint("stage", f"stage IN ({NEW_STAGES})")


def downgrade() -> None:
    # A customer being called back is, for the old schema, a call that has ended; a
    # callback under way or given up on is open again, one that reached them done.
    op.execute("UPDATE calls SET stage = 'ended' WHERE stage = 'callback'")
    op.execute("UPDATE callback_requests SET status = 'open' WHERE status = 'calling'")
    op.execute("UPDATE callback_requests SET status = 'done' WHERE status = 'unreachable'")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_calls_stage"), type_="check")
        batch_op.create_check_constraint("stage", f"stage IN ({OLD_STAGES})")
    with op.batch_alter_table("agent_calls", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_agent_calls_callback_id_callback_requests"), type_="foreignkey"
        )
        batch_op.drop_column("callback_id")
    op.drop_index("uq_callback_attempts_open", table_name="callback_attempts")
    op.drop_index(op.f("ix_callback_attempts_callback_id"), table_name="callback_attempts")
    op.drop_table("callback_attempts")
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_callback_requests_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({OLD_STATUSES})")
        for column in ("agent_id", "offered_agent_id"):
            batch_op.drop_constraint(
                op.f(f"fk_callback_requests_{column}_agents"), type_="foreignkey"
            )
            batch_op.drop_column(column)
        batch_op.drop_column("attempts")
        for column in reversed(TIMES):
            batch_op.drop_column(column)
