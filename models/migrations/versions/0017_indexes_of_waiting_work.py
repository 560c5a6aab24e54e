"""partial indexes of the waiting callers and the open callbacks: agents taking the
next caller and the wait document's callers ahead read every call, and every callback,
ever made (bench/scale.py)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    waiting = sa.text("stage = 'queued'")
    op.create_index(
        "ix_calls_waiting",
        "calls",
        ["queued_at"],
        sqlite_where=waiting,
        postgresql_where=waiting,
    )
    open_ = sa.text("status = 'open'")
    op.create_index(
        "ix_callback_requests_open",
        "callback_requests",
        ["due_at"],
        sqlite_where=open_,
        postgresql_where=open_,
    )


def downgrade() -> None:
    op.drop_index("ix_callback_requests_open", table_name="callback_requests")
    op.drop_index("ix_calls_waiting", table_name="calls")
