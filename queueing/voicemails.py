"""Voicemails as agents' work: the open voicemails an agent may handle, taking one,
giving it back, marking it done, and its recording's audio.

Who may handle a voicemail is the rule for live callers (queueing.matching): its topic
is the queue the caller was in, and it is in one of the agent's languages. Changes of
state are conditional UPDATEs, so of two agents taking one voicemail at once (on
several servers, too) exactly one wins, and done is done once. They work in the
caller's session, which the caller commits. The audio is fetched by Hotline with the
account's credentials (telephony.rest), so a browser never sees the recording's URL
or the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from flowfile.vocabulary import Language
from models import Agent, Call, CallEvent, Customer, Voicemail
from models.db import changed
from models.queueing import VOICEMAILS_IN_TURN, FollowUpStatus
from queueing.matching import voicemails_for
from telephony.numbers import mask
from telephony.rest import Recording, TwilioGateway

SHOWN_DIGITS = 4  # of the caller's number: enough to recognise it, not to dial it


@dataclass(frozen=True)
class VoicemailView:
    """What an agent's desk shows of one voicemail."""

    id: int
    verified: bool  # the caller proved who they are (PIN or SMS code) before leaving it
    customer_name: str | None  # only for a verified caller
    number: str | None  # the caller ID, masked but for its last digits; None if withheld
    topic: str  # the queue the caller was in
    language: Language
    left_at: datetime
    duration_seconds: int | None
    taken_at: datetime | None  # when this agent took it; None while nobody has


def open_voicemails(session: Session, agent: Agent, limit: int = 100) -> list[VoicemailView]:
    """The voicemails not yet done that ``agent`` may handle, in turn: those nobody has
    taken and those the agent took (others' are theirs)."""
    rows = session.execute(
        select(Voicemail, Call.caller, Customer.name)
        .join(Call, Call.id == Voicemail.call_id)
        .outerjoin(Customer, Customer.id == Voicemail.customer_id)
        .where(
            Voicemail.status == FollowUpStatus.OPEN,
            voicemails_for(agent),
            or_(Voicemail.taken_by.is_(None), Voicemail.taken_by == agent.id),
        )
        .order_by(*VOICEMAILS_IN_TURN)
        .limit(limit)
    )
    return [
        VoicemailView(
            id=voicemail.id,
            verified=voicemail.customer_id is not None,
            customer_name=name,
            number=mask(caller, last=SHOWN_DIGITS) if caller else None,
            topic=voicemail.topic,
            language=voicemail.language,
            left_at=voicemail.created_at,
            duration_seconds=voicemail.duration_seconds,
            taken_at=voicemail.taken_at,
        )
        for voicemail, caller, name in rows
    ]


def take_voicemail(session: Session, agent: Agent, voicemail_id: int, now: datetime) -> bool:
    """The agent takes the voicemail to handle it. False when it is not theirs to take:
    done, taken already (by anyone, this agent too), not for them, or not there."""
    return _change(
        session,
        voicemail_id,
        (Voicemail.taken_by.is_(None), voicemails_for(agent)),
        taken_by=agent.id,
        taken_at=now,
    )


def release_voicemail(session: Session, agent: Agent, voicemail_id: int) -> bool:
    """The agent who took the voicemail gives it back to everyone who may handle it."""
    return _change(
        session, voicemail_id, (Voicemail.taken_by == agent.id,), taken_by=None, taken_at=None
    )


def mark_voicemail_done(session: Session, agent: Agent, voicemail_id: int, now: datetime) -> bool:
    """Done, for good: by the agent who took it, or by one who may handle it while nobody
    has. False when done already, taken by another agent, not for them, or not there."""
    return _change(
        session,
        voicemail_id,
        (or_(Voicemail.taken_by.is_(None), Voicemail.taken_by == agent.id), voicemails_for(agent)),
        status=FollowUpStatus.DONE,
        done_by=agent.id,
        done_at=now,
    )


def close_voicemail(session: Session, voicemail_id: int, operator: str, now: datetime) -> bool:
    """Done, marked by an operator at the console, whoever has taken it: an agent who
    then marks it done finds it done already. ``done_by`` names agents only, so the
    step naming the operator goes on the caller's call. True if this closed it."""
    if not _change(session, voicemail_id, (), status=FollowUpStatus.DONE, done_at=now):
        return False
    call_id = session.scalar(select(Voicemail.call_id).where(Voicemail.id == voicemail_id))
    data = {"voicemail": voicemail_id, "operator": operator}
    session.add(CallEvent(call_id=call_id, kind="voicemail.closed", data=data, at=now))
    return True


def recording_audio(
    session: Session, agent: Agent | None, voicemail_id: int, gateway: TwilioGateway
) -> Recording | None:
    """The voicemail's audio, for an agent who may handle it (done or not, whoever took
    it), or for an operator (``agent`` None), who may hear any; None when there is no
    such voicemail for them. The session's transaction is committed first: no request
    to Twilio is made inside one. Raises TwilioUnavailable
    when Twilio cannot give it, RecordingRefused when its stored URL is not one of this
    account's recordings on Twilio's API (then nothing is requested)."""
    query = select(Voicemail.recording_url).where(Voicemail.id == voicemail_id)
    url = session.scalar(query.where(voicemails_for(agent)) if agent else query)
    session.commit()
    return None if url is None else gateway.fetch_recording(url)


def _change(
    session: Session,
    voicemail_id: int,
    conditions: tuple[ColumnElement[bool], ...],
    **values: object,
) -> bool:
    """One open voicemail changed only while ``conditions`` hold: True if this did it."""
    statement = (
        update(Voicemail)
        .where(Voicemail.id == voicemail_id, Voicemail.status == FollowUpStatus.OPEN, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return changed(session, statement) == 1
