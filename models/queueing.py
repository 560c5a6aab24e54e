"""What callers leave for agents when they do not wait: callback requests and voicemails."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from flowfile.vocabulary import Language
from models.base import Base, UTCDateTime, check_in, enum_column


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class CallbackRequest(Base):
    __tablename__ = "callback_requests"
    __table_args__ = (CheckConstraint(check_in("status", FollowUpStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(20))  # E.164
    language: Mapped[Language] = mapped_column(String(2))
    topic: Mapped[str] = mapped_column(String(64))  # the queue the caller was waiting in
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus), default=FollowUpStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the app's clock


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
