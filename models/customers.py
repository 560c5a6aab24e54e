"""Customers of the wallet, their accounts and transactions (imported by operators)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flowfile.vocabulary import LANGUAGES, Language
from models.base import Base, UTCDateTime, check_in, enum_column, utcnow


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"


class TransactionKind(StrEnum):
    TOPUP = "topup"
    WITHDRAWAL = "withdrawal"
    PAYMENT = "payment"
    REFUND = "refund"


class TransactionStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(check_in("language", LANGUAGES), name="language"),
        CheckConstraint(check_in("status", CustomerStatus), name="status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    language: Mapped[Language] = mapped_column(String(2))
    # Keyed hash (verification.secrets); None means the customer gets SMS codes.
    pin_hash: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[CustomerStatus] = mapped_column(enum_column(CustomerStatus))
    freeze_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Every imported customer has one; the schema alone does not promise it.
    account: Mapped[Account | None] = relationship(
        back_populates="customer", cascade="all, delete-orphan", uselist=False
    )


class Account(Base):
    """The customer's wallet."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    balance: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))

    customer: Mapped[Customer] = relationship(back_populates="account")
    transactions: Mapped[list[Transaction]] = relationship(
        back_populates="account",
        cascade="all, delete-orphan",
        order_by="Transaction.created_at",
    )


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint(check_in("kind", TransactionKind), name="kind"),
        CheckConstraint(check_in("status", TransactionStatus), name="status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[TransactionKind] = mapped_column(enum_column(TransactionKind))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[TransactionStatus] = mapped_column(enum_column(TransactionStatus))
    channel: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(Text)

    account: Mapped[Account] = relationship(back_populates="transactions")
