"""agents reached where they are and working at a desk: an endpoint per agent (a
phone number, ``client:`` or ``sip:``), a desk password (hashed), a break status,
and the notes and wrap-up disposition of each agent call

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_STATUSES = "'available', 'busy', 'wrap_up', 'offline'"
NEW_STATUSES = "'available', 'busy', 'wrap_up', 'break', 'offline'"


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("endpoint", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        # Written by hand: autogenerate does not compare CHECK constraints.
        batch_op.drop_constraint(op.f("ck_agents_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({NEW_STATUSES})")
    with op.batch_alter_table("agent_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("disposition", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # An agent on a break is, for the old schema, offline.
    op.execute("UPDATE agents SET status = 'offline' WHERE status = 'break'")
    with op.batch_alter_table("agent_calls", schema=None) as batch_op:
        batch_op.drop_column("disposition")
        batch_op.drop_column("notes")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_agents_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({OLD_STATUSES})")
        batch_op.drop_column("password_hash")
        batch_op.drop_column("endpoint")
