"""Live agents: who they are, what they handle, whether they can take a call."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, check_in, enum_column, utcnow

if TYPE_CHECKING:
    from models.calls import Call


class AgentStatus(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    BREAK = "break"  # signed in at the desk, taking no calls for now
    OFFLINE = "offline"


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (CheckConstraint(check_in("status", AgentStatus), name="status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164; who calls the agent line
    # Where Hotline rings the agent: a phone number, ``client:<identity>`` (the browser)
    # or ``sip:<uri>`` (a desk phone or PBX); None rings ``phone``.
    endpoint: Mapped[str | None] = mapped_column(String(255))
    # The desk's sign-in (desk.auth), an Argon2 hash; None: this agent has no desk password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    pin_hash: Mapped[str] = mapped_column(String(128))
    skills: Mapped[list[str]] = mapped_column(JSON)  # branch names from the flow file
    languages: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[AgentStatus] = mapped_column(
        enum_column(AgentStatus), default=AgentStatus.OFFLINE
    )
    status_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgentStatusChange(Base):
    """An agent's status from ``at`` until their next change (``queueing.status_log``):
    one row each time ``Agent.status_since`` is set, in the same transaction. Before an
    agent's first row they were offline. Reports measure occupancy from these rows."""

    __tablename__ = "agent_status_changes"
    __table_args__ = (
        CheckConstraint(check_in("status", AgentStatus), name="status"),
        Index("ix_agent_status_changes_agent_id_at", "agent_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    status: Mapped[AgentStatus] = mapped_column(enum_column(AgentStatus))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the app's clock


class AgentStage(StrEnum):
    """Where an agent's call stands; ``queueing.agent_stages`` says which webhook
    answers each stage."""

    PIN = "pin"
    RING = "ring"  # a rung agent picked up: a key before the whisper (a voicemail never presses)
    MENU = "menu"
    WHISPER = "whisper"
    CONNECTED = "connected"
    WRAP_UP = "wrap_up"
    ENDED = "ended"


class AgentCall(Base):
    """One call of an agent (on the agent line, or rung), keyed by its CallSid."""

    __tablename__ = "agent_calls"
    __table_args__ = (CheckConstraint(check_in("stage", AgentStage), name="stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    # Who the caller ID claims; confirmed only once the agent PIN matched.
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    confirmed: Mapped[bool] = mapped_column(default=False)
    rung: Mapped[bool] = mapped_column(default=False)  # Hotline called the agent, not they us
    stage: Mapped[AgentStage] = mapped_column(enum_column(AgentStage), default=AgentStage.PIN)
    pin_failures: Mapped[int] = mapped_column(default=0)
    # The queued caller this agent is hearing about, or talking to.
    caller_call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    # That caller's row as the leg was loaded with it (calls.context), which keeps it in
    # the session for the steps' ``session.get``; read only, never loaded on its own:
    # steps set ``caller_call_id``.
    caller_call: Mapped[Call | None] = relationship(viewonly=True, lazy="raise")
    # The callback this agent is hearing about or calling back (queueing.callbacks); the
    # customer's call, once placed, is ``caller_call_id``.
    callback_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback_requests.id", ondelete="SET NULL")
    )
    turn: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the app's clock
    # What the agent wrote on the desk during the call and in its wrap-up, and the
    # wrap-up's disposition code (one of the flow file's ``agents.dispositions``).
    notes: Mapped[str | None] = mapped_column(Text)
    disposition: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class AgentPass(Base):
    """An agent passed on a caller: that caller is not offered to them again while the
    pass holds (``queueing.passes``). One row per caller and agent, the latest pass."""

    __tablename__ = "agent_passes"

    call_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    passed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the app's clock
