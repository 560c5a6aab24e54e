"""no foreign keys on the customer a caller claims (calls.claimed_customer_id) and on
the customer of a verification attempt: the database checked, and PostgreSQL locked, the
customer's row only when the number keyed was registered, a delay a caller could time

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_calls_claimed_customer_id_customers"), type_="foreignkey")
    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_verification_attempts_customer_id_customers"), type_="foreignkey"
        )


def downgrade() -> None:
    # What the keys' ON DELETE did for a customer deleted by hand meanwhile.
    op.execute(
        "UPDATE calls SET claimed_customer_id = NULL"
        " WHERE claimed_customer_id NOT IN (SELECT id FROM customers)"
    )
    op.execute(
        "DELETE FROM verification_attempts WHERE customer_id NOT IN (SELECT id FROM customers)"
    )
    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_verification_attempts_customer_id_customers"),
            "customers",
            ["customer_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_calls_claimed_customer_id_customers"),
            "customers",
            ["claimed_customer_id"],
            ["id"],
            ondelete="SET NULL",
        )
