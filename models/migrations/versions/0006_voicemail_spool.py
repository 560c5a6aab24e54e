"""one voicemail per recording, so that replaying the voicemail spool is idempotent

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Recordings kept while the database was down are spooled to files (calls/spool.py) and
replayed later, possibly more than once or by several servers at once: the unique
recording SID makes each recording one voicemail.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voicemails", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_voicemails_recording_sid"), ["recording_sid"]
        )


def downgrade() -> None:
    with op.batch_alter_table("voicemails", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_voicemails_recording_sid"), type_="unique")
