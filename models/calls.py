"""One record per call (keyed by Twilio's CallSid) and an event for every step."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flowfile.vocabulary import Language
from models.base import Base, UTCDateTime, check_in, enum_column, urgent_first


class CallStage(StrEnum):
    """Where a caller's call stands. Every webhook checks it, so that replayed or
    out-of-order requests resume the call instead of repeating a step;
    ``callflows.stages`` says which webhook answers each stage."""

    LANGUAGE = "language"
    NUMBER = "number"
    SECRET = "secret"
    AGENT_OFFER = "agent_offer"
    MENU = "menu"
    ANSWERED = "answered"  # after an answer: 9 again, * the menu, 0 an agent
    CONFIRM = "confirm"  # a refund or freeze read back, waiting for the confirm key
    QUEUED = "queued"
    CONNECTED = "connected"
    # Taken out of an agent's room the agent never came to (or left before talking),
    # on the way back to the queue (queueing.conference).
    RETURNING = "returning"
    # A customer Hotline calls back (queueing.callbacks): told who calls, asked for 1.
    CALLBACK = "callback"
    AFTER_QUEUE = "after_queue"
    VOICEMAIL = "voicemail"
    RATING = "rating"
    ENDED = "ended"


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (CheckConstraint(check_in("stage", CallStage), name="stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str | None] = mapped_column(String(20))  # E.164, None when withheld
    called: Mapped[str | None] = mapped_column(String(20))
    # Times of a call come from the app's one clock (calls.context), never a default.
    # Indexed: reports and /metrics pick calls by when they began or ended.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    twilio_status: Mapped[str | None] = mapped_column(String(16))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)

    stage: Mapped[CallStage] = mapped_column(enum_column(CallStage), default=CallStage.LANGUAGE)
    language: Mapped[Language | None] = mapped_column(String(2))
    # The customer the caller ID or the keyed-in number points at: a claim, not proof.
    # No foreign key: the database would look up the customer's row for a registered
    # number only, not for None (sqlite.org/foreignkeys.html; PostgreSQL's MATCH SIMPLE,
    # postgresql.org/docs/current/sql-createtable.html), and PostgreSQL locks it too
    # (FOR KEY SHARE, src/backend/utils/adt/ri_triggers.c): a delay a caller could time
    # (SPEC §5). Hotline deletes no customer (import-data updates by id): none dangles.
    claimed_customer_id: Mapped[str | None] = mapped_column(String(64))
    claimed_by_caller_id: Mapped[bool] = mapped_column(default=False)
    # Set only once a PIN or SMS code has matched.
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    verified: Mapped[bool] = mapped_column(default=False)
    verification_failures: Mapped[int] = mapped_column(default=0)
    menu: Mapped[str | None] = mapped_column(String(64))  # the flow menu the caller is in
    menu_misses: Mapped[int] = mapped_column(default=0)
    # The option of ``menu`` being confirmed (CONFIRM) or heard again on 9 (ANSWERED), and
    # what it acts on (a transaction's id): the one read back is the one carried out.
    option_key: Mapped[str | None] = mapped_column(String(1))
    option_subject: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_sid: Mapped[str | None] = mapped_column(String(34))  # from the wait document
    # The agent hearing about this caller now (reserved), then the one talking to them.
    offered_agent_id: Mapped[str | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    # In the agent's room (queueing.conference): when the caller reached it (the app's
    # clock, for the deadline); then, from Twilio's conference events, the room's
    # latest instance, when each side joined it and how long they talked.
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conference_sid: Mapped[str | None] = mapped_column(String(64))
    caller_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    # Why the caller is leaving the queue ("callback", "max_wait", "overflow"), set before <Leave/>.
    leave_reason: Mapped[str | None] = mapped_column(String(16))
    # What the wait document last told the caller: a position said never rises, and a
    # wait promised is never stretched (queueing.waiting).
    ahead_announced: Mapped[int | None] = mapped_column(Integer)
    expected_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the wait document now playing should end: one back much sooner means its hold
    # music was skipped (a URL Twilio could not fetch), and Hotline's own plays instead.
    hold_turn_ends: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_music_failed: Mapped[bool] = mapped_column(default=False)
    # When an agent claimed the caller, and how long that agent then spent on them (talk
    # and wrap-up, until the agent was free again): the history waits are told from.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    handled_seconds: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5, asked after an agent call
    outcome: Mapped[str | None] = mapped_column(String(32))
    # Numbers the prompts: an answer to an older prompt (a retry, a late
    # request) only resumes the call, it is never processed twice.
    turn: Mapped[int] = mapped_column(default=0)
    # Optimistic lock: two webhooks of one call racing cannot both apply.
    version: Mapped[int] = mapped_column(default=1)

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def begun(cls, call_sid: str, started_at: datetime, stage: CallStage) -> Call:
        """A call Hotline has just heard of. Column defaults apply only at INSERT: set
        here what the steps read before then."""
        return cls(
            call_sid=call_sid,
            started_at=started_at,
            stage=stage,
            verified=False,
            verification_failures=0,
            menu_misses=0,
            claimed_by_caller_id=False,
            turn=0,
        )


# The callers waiting now, in the order agents take them (``IN_TURN``): agents taking the
# next caller read them off this index and stop at the first they may take; the wait
# document's callers ahead read these few rows, not every call ever made.
IN_TURN = (urgent_first(Call.queue), Call.queued_at, Call.id)
Index(
    "ix_calls_in_turn",
    *IN_TURN,
    sqlite_where=text("stage = 'queued'"),
    postgresql_where=text("stage = 'queued'"),
)


class CallEvent(Base):
    """A step of a call; ``data`` never holds PINs or codes."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    call: Mapped[Call] = relationship(back_populates="events")


# The call event of a code texted (verification.codes), which the daily cap per caller ID
# counts: the day's few are read off this index, not every event ever recorded. A query
# names the kind as ``SMS_SENT_ONLY`` does, literally, for the database to use the index.
SMS_SENT = "verification.sms_sent"
SMS_SENT_ONLY = CallEvent.kind == literal_column(f"'{SMS_SENT}'")
Index(
    "ix_call_events_sms_sent",
    CallEvent.at,
    sqlite_where=text(f"kind = '{SMS_SENT}'"),
    postgresql_where=text(f"kind = '{SMS_SENT}'"),
)
