"""What phone verification remembers across calls: lockouts, attempts, SMS codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, check_in, enum_column


class AttemptMethod(StrEnum):
    PIN = "pin"
    SMS_CODE = "sms_code"


class AttemptOutcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    LOCKED = "locked"
    NO_INPUT = "no_input"


class VerificationGuard(Base):
    """Consecutive failures and lock of one subject (``customer:C1001``, ``agent:A01``);
    changed only by conditional UPDATEs."""

    __tablename__ = "verification_guards"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VerificationAttempt(Base):
    __tablename__ = "verification_attempts"
    __table_args__ = (
        CheckConstraint(check_in("method", AttemptMethod), name="method"),
        CheckConstraint(check_in("outcome", AttemptOutcome), name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    # None when the keyed-in number belongs to nobody. No foreign key, as for the claim
    # it comes from (Call.claimed_customer_id): a check for customers only is a delay.
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    method: Mapped[AttemptMethod] = mapped_column(enum_column(AttemptMethod))
    outcome: Mapped[AttemptOutcome] = mapped_column(enum_column(AttemptOutcome))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the app's clock


class OneTimeCode(Base):
    """An SMS code, kept only as a keyed hash; valid until expiry, once."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_sid: Mapped[str | None] = mapped_column(String(64))
