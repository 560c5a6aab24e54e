"""Requests a caller leaves for the back office, such as a refund of a transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, check_in, enum_column


class TicketStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    REJECTED = "rejected"


class RefundTicket(Base):
    """A refund request; its reference is read out to the caller and agents look it up."""

    __tablename__ = "refund_tickets"
    __table_args__ = (CheckConstraint(check_in("status", TicketStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # One ticket per transaction: asking twice reads out the same reference.
    transaction_id: Mapped[str] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), unique=True
    )
    # Indexed: the agent's whisper reads a caller's ticket by their call (migration 0019).
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus), default=TicketStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the app's clock
