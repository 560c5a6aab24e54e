"""the open voicemails indexed in the order agents take them: the desk's list of them,
asked for every few seconds, is read off the index instead of every voicemail sorted

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")
# As models.queueing.VOICEMAILS_IN_TURN writes it (models.base.urgent_first, literally).
IN_TURN = ["(topic = 'urgent') DESC", "created_at", "id"]


def upgrade() -> None:
    op.create_index(
        "ix_voicemails_in_turn",
        "voicemails",
        [sa.text(key) for key in IN_TURN],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_voicemails_in_turn", table_name="voicemails")
