"""the call events of codes texted indexed by when: the daily cap per caller ID counts
the day's few instead of reading every event ever recorded

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# As models.calls.SMS_SENT_ONLY writes it, literally.
TEXTED = sa.text("kind = 'verification.sms_sent'")


def upgrade() -> None:
    op.create_index(
        "ix_call_events_sms_sent",
        "call_events",
        ["at"],
        sqlite_where=TEXTED,
        postgresql_where=TEXTED,
    )


def downgrade() -> None:
    op.drop_index("ix_call_events_sms_sent", table_name="call_events")
