"""What callers leave for agents when they do not wait: callback requests and voicemails."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from flowfile.vocabulary import Language
from models.base import Base, UTCDateTime, check_in, enum_column, urgent_first


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class CallbackStatus(StrEnum):
    OPEN = "open"  # waiting for its turn, or for its next attempt (``due_at``)
    CALLING = "calling"  # an agent took it: the customer's phone rings, or they talk
    DONE = "done"  # the customer was reached
    UNREACHABLE = "unreachable"  # CALLBACK_ATTEMPTS attempts, and nobody took the call


class CallbackRequest(Base):
    """A callback the caller asked for: it keeps their place among live callers
    (``queueing.callback_queue``) until an agent calls them back (``queueing.callbacks``)."""

    __tablename__ = "callback_requests"
    __table_args__ = (CheckConstraint(check_in("status", CallbackStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(20))  # E.164
    language: Mapped[Language] = mapped_column(String(2))
    topic: Mapped[str] = mapped_column(String(64))  # the queue the caller was waiting in
    status: Mapped[CallbackStatus] = mapped_column(
        enum_column(CallbackStatus), default=CallbackStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the app's clock
    # The caller's place: when they first queued (None: never queued, so ``created_at``).
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Not tried again before this (CALLBACK_RETRY_MINUTES after a failed attempt).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Attempts that did not reach the customer; at CALLBACK_ATTEMPTS it is unreachable.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The agent hearing about it now (reserved, as for live callers), then the one
    # calling back.
    offered_agent_id: Mapped[str | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# A callback's place among live callers: when its caller first queued, else when asked.
PLACE = func.coalesce(CallbackRequest.queued_at, CallbackRequest.created_at)
# The open callbacks, in the order agents serve them (``IN_TURN``, as live callers are,
# ``models.calls.IN_TURN``): an agent's next work reads them off this index and stops at
# the first due one they may take; the wait document reads these, not every callback done.
IN_TURN = (urgent_first(CallbackRequest.topic), PLACE, CallbackRequest.id)
Index(
    "ix_callback_requests_in_turn",
    *IN_TURN,
    sqlite_where=text("status = 'open'"),
    postgresql_where=text("status = 'open'"),
)


class CallbackAttempt(Base):
    """One try at calling a customer back, and how it ended. At most one attempt of a
    callback is open (no ``ended_at``) at a time, whatever the number of servers: the
    partial unique index says so to the database."""

    __tablename__ = "callback_attempts"
    __table_args__ = (
        Index(
            "uq_callback_attempts_open",
            "callback_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callback_requests.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    # The agent's call that waits for the customer, and the customer's call (once placed).
    agent_call_id: Mapped[int | None] = mapped_column(
        ForeignKey("agent_calls.id", ondelete="SET NULL")
    )
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the app's clock
    # How it went: "talked"; "answered" (1 pressed: also its result while it is open);
    # Twilio's "no-answer", "busy", "failed", "canceled"; "no_key" (answered, 1 never
    # pressed: an answering machine); "agent_left", "not_placed" (neither counts).
    result: Mapped[str | None] = mapped_column(String(16))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Voicemail(Base):
    __tablename__ = "voicemails"
    __table_args__ = (CheckConstraint(check_in("status", FollowUpStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    language: Mapped[Language] = mapped_column(String(2))
    topic: Mapped[str] = mapped_column(String(64))
    recording_url: Mapped[str] = mapped_column(String(500))
    # Unique: a recording replayed from the spool (calls.spool) twice is one voicemail.
    recording_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    duration_seconds: Mapped[int | None]
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus), default=FollowUpStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the app's clock
    # Work for agents (queueing.voicemails): the agent handling it and since when, then
    # who marked it done and when. Changed only by conditional UPDATEs, so of two agents
    # taking one voicemail at once exactly one has it.
    taken_by: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The voicemails not yet done, in the order agents take them (urgent first, then the
# oldest): the desk, which asks every few seconds, reads them off this index and stops
# at its page's last, not every voicemail ever left.
VOICEMAILS_IN_TURN = (urgent_first(Voicemail.topic), Voicemail.created_at, Voicemail.id)
Index(
    "ix_voicemails_in_turn",
    *VOICEMAILS_IN_TURN,
    sqlite_where=text("status = 'open'"),
    postgresql_where=text("status = 'open'"),
)
