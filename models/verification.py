"""What phone verification remembers across calls: lockouts, attempts, SMS codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, check_in, utcnow

ATTEMPT_METHODS = ("pin", "sms_code")
ATTEMPT_OUTCOMES = ("success", "failure", "locked", "no_input")


class VerificationGuard(Base):
    """Consecutive failures and lock of one customer; changed only by conditional UPDATEs."""

    __tablename__ = "verification_guards"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VerificationAttempt(Base):
    __tablename__ = "verification_attempts"
    __table_args__ = (
        CheckConstraint(check_in("method", ATTEMPT_METHODS), name="method"),
        CheckConstraint(check_in("outcome", ATTEMPT_OUTCOMES), name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    # None when the keyed-in number belongs to nobody.
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OneTimeCode(Base):
    """An SMS code, kept only as a keyed hash; valid until expiry, once."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_sid: Mapped[str | None] = mapped_column(String(64))
