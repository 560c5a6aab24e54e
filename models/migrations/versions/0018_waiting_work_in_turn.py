"""the waiting callers and the open callbacks indexed in the order agents take them:
the next caller and the next callback are read off the index, not sorted (bench/scale.py)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

WAITING = sa.text("stage = 'queued'")
OPEN = sa.text("status = 'open'")
# As models.base.urgent_first writes it, literally: a query's ORDER BY must be this
# expression for the database to read the index in turn.
CALLS_IN_TURN = ["(queue = 'urgent') DESC", "queued_at", "id"]
CALLBACKS_IN_TURN = ["(topic = 'urgent') DESC", "coalesce(queued_at, created_at)", "id"]


def upgrade() -> None:
    op.drop_index("ix_calls_waiting", table_name="calls")
    op.create_index(
        "ix_calls_in_turn",
        "calls",
        [sa.text(key) for key in CALLS_IN_TURN],
        sqlite_where=WAITING,
        postgresql_where=WAITING,
    )
    op.drop_index("ix_callback_requests_open", table_name="callback_requests")
    op.create_index(
        "ix_callback_requests_in_turn",
        "callback_requests",
        [sa.text(key) for key in CALLBACKS_IN_TURN],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_callback_requests_in_turn", table_name="callback_requests")
    op.create_index(
        "ix_callback_requests_open",
        "callback_requests",
        ["due_at"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.drop_index("ix_calls_in_turn", table_name="calls")
    op.create_index(
        "ix_calls_waiting", "calls", ["queued_at"], sqlite_where=WAITING, postgresql_where=WAITING
    )
