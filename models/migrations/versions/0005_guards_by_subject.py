"""verification guards keyed by subject, so agents' PINs share the customers' lockout

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

The calls.stage CHECK already allows 'connected' (0004); the model's list lacked
it, and is now built from ``CallStage``. ``tests/models/test_migrations.py``
compares every migrated CHECK with the models' so the two cannot drift again.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _rebuild(old: str, new: str, rekey: Callable[[str], str | None]) -> None:
    """Recreate the table keyed by ``new``, keeping the live lockouts. Values pass
    through as the driver returned them, so SQLite's text timestamps stay text."""
    bind = op.get_bind()
    rows = list(
        bind.execute(
            sa.text(f"SELECT {old}, consecutive_failures, locked_until FROM verification_guards")
        )
    )
    op.drop_table("verification_guards")
    by_customer = new == "customer_id"
    op.create_table(
        "verification_guards",
        sa.Column(new, sa.String(length=64 if by_customer else 80), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        *(
            [
                sa.ForeignKeyConstraint(
                    ["customer_id"],
                    ["customers.id"],
                    name=op.f("fk_verification_guards_customer_id_customers"),
                    ondelete="CASCADE",
                )
            ]
            if by_customer
            else []
        ),
        sa.PrimaryKeyConstraint(new, name=op.f("pk_verification_guards")),
    )
    insert = sa.text(
        f"INSERT INTO verification_guards ({new}, consecutive_failures, locked_until)"
        " VALUES (:key, :failures, :until)"
    )
    for key, failures, until in rows:
        new_key = rekey(key)
        if new_key is not None:
            bind.execute(insert, {"key": new_key, "failures": failures, "until": until})


def upgrade() -> None:
    _rebuild("customer_id", "subject", lambda customer_id: f"customer:{customer_id}")


def downgrade() -> None:
    # Agents' guards have no place in the old table.
    _rebuild(
        "subject",
        "customer_id",
        lambda subject: (
            subject.removeprefix("customer:") if subject.startswith("customer:") else None
        ),
    )
