"""Live agents: who they are, what they handle, whether they can take a call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, check_in, utcnow

AGENT_STATUSES = ("available", "busy", "wrap_up", "offline")


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (CheckConstraint(check_in("status", AGENT_STATUSES), name="status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    pin_hash: Mapped[str] = mapped_column(String(128))
    skills: Mapped[list[str]] = mapped_column(JSON)  # branch names from the flow file
    languages: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="offline")
    status_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
