"""The people who run the hotline from /admin: supervisors watch and act on calls and
work; admins also manage agents and operators."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, check_in, enum_column


class OperatorRole(StrEnum):
    SUPERVISOR = "supervisor"  # sees everything, acts on calls, callbacks and voicemails
    ADMIN = "admin"  # also manages agents and operators


class Operator(Base):
    __tablename__ = "operators"
    __table_args__ = (CheckConstraint(check_in("role", OperatorRole), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # what they sign in with
    role: Mapped[OperatorRole] = mapped_column(enum_column(OperatorRole))
    password_hash: Mapped[str] = mapped_column(String(255))  # Argon2 (verification.passwords)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
