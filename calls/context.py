"""What one webhook needs to decide and answer, for a caller's call or an agent's.

Any webhook may be the first this database sees of a call (out of order, or
after a restore), so the call's record is found or opened here for every request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, contains_eager

from calls.reach import calling_agent, rung_agent
from calls.twiml import EveryVoice, Voice, caller_in_room
from flowfile.flow import Flow
from flowfile.vocabulary import Language
from logs import mask_digit_runs
from models import Agent, AgentCall, Call, CallEvent, Customer
from models.agents import AgentStage
from models.calls import CallStage
from models.direct_reads import ByKey
from settings import Settings
from telephony.numbers import to_e164
from telephony.params import VoiceParams
from telephony.rest import TwilioGateway
from telephony.sms import SmsSender, TwilioSms

T = TypeVar("T")
# The fields of a call's history that hold what a caller said or keyed.
HEARD = frozenset({"speech", "key"})
# Every caller's webhook runs it first: built once, as building it costs about what
# running it does, and read through Core (models.direct_reads).
CALL_BY_SID = ByKey(Call, Call.call_sid)
# A new call's caller ID, looked up once per call.
CUSTOMER_BY_PHONE = select(Customer.id).where(Customer.phone == bindparam("phone")).limit(1)


class NoCallSid(Exception):
    """A webhook without a CallSid (or a room that names no call) cannot be tied to a call."""


@dataclass(frozen=True)
class Services:
    """What the app built at start-up, for every request."""

    flow: Flow
    settings: Settings
    twilio: TwilioGateway
    clock: Callable[[], datetime]  # the one clock: tests set it, nothing reads another
    sms: SmsSender

    @classmethod
    def of(cls, extensions: Mapping[str, Any]) -> Services:
        """From ``app.extensions``, where ``create_app`` hangs them (and tests replace them)."""
        return cls(
            extensions["flow"],
            extensions["settings"],
            extensions["twilio"],
            extensions["clock"],
            extensions["sms"],
        )


@dataclass
class Context:
    session: Session
    flow: Flow
    settings: Settings
    gateway: TwilioGateway  # requests go through rest(), never inside a transaction
    now: datetime  # the clock at this request
    # Who sends SMS codes (telephony.sms; SMS_SENDER); None: Twilio's, through ``gateway``.
    sms: SmsSender | None = field(default=None, kw_only=True)

    def rest(self, request: Callable[[TwilioGateway], T]) -> T:
        """Make a request to Twilio's REST API with no database transaction open.

        What this step has done so far is committed first, and what follows runs in
        a new transaction, so a slow or failing API holds no lock and stalls no other
        call. The gateway's short timeout bounds the wait; a failure raises
        ``TwilioUnavailable`` for the step to handle (in that new transaction)."""
        self.session.commit()
        return request(self.gateway)

    def send_sms(self, to: str, body: str) -> str:
        """Send a text through the configured sender, as ``rest()`` makes its requests:
        committed first, no transaction open while the provider answers. Raises
        ``SmsNotSent`` when no message went out."""
        sender = self.sms or TwilioSms(self.gateway)
        self.session.commit()
        return sender.send(to, body)


@dataclass
class CallContext(Context):
    call: Call

    @property
    def language(self) -> Language:
        return self.call.language or self.flow.default_language

    @property
    def voice(self) -> Voice:
        return Voice(self.flow, self.language)

    def record(self, kind: str, **data: Any) -> None:
        """Add a step to the call's history (never a PIN, code or full number)."""
        event = CallEvent(call_id=self.call.id, kind=kind, data=heard_masked(data), at=self.now)
        self.session.add(event)

    def customer(self, customer_id: str | None) -> Customer | None:
        return self.session.get(Customer, customer_id) if customer_id else None


@dataclass
class AgentContext(Context):
    leg: AgentCall
    agent: Agent | None

    @property
    def voice(self) -> Voice:
        """The agent's first language the flow speaks, else the flow's default; every
        language until they are confirmed, so that the line sounds the same for a
        stranger as for an agent's phone (SPEC §5)."""
        if not self.leg.confirmed:
            return EveryVoice(self.flow)
        for wanted in self.agent.languages if self.agent else []:
            for language in self.flow.languages:
                if language == wanted:
                    return Voice(self.flow, language)
        return Voice(self.flow, self.flow.default_language)

    def record(self, kind: str, **data: Any) -> None:
        """Agent steps go on the caller's record when they concern one."""
        if self.leg.caller_call_id is not None:
            data = {"agent": self.agent.id if self.agent else None, **heard_masked(data)}
            event = CallEvent(call_id=self.leg.caller_call_id, kind=kind, data=data, at=self.now)
            self.session.add(event)


def heard_masked(data: dict[str, Any]) -> dict[str, Any]:
    """What a caller said or keyed, as a history keeps it: runs of digits masked (a PIN
    said at a menu). Only the record: menus match what was heard, unmasked."""
    return {
        name: mask_digit_runs(value) if name in HEARD and isinstance(value, str) else value
        for name, value in data.items()
    }


def open_call(session: Session, params: VoiceParams, services: Services) -> CallContext:
    now = services.clock()
    call = find_or_open_call(session, params, services.settings.default_region, now)
    return CallContext(
        session, services.flow, services.settings, services.twilio, now, call, sms=services.sms
    )


def open_room_call(session: Session, params: VoiceParams, services: Services) -> CallContext:
    """A conference's status callback speaks of the room, whoever's ``CallSid`` it
    carries (the caller's, the agent's, or none): the call is the caller whose room it is."""
    caller_sid = caller_in_room(params.friendly_name)
    call = CALL_BY_SID.one_or_none(session, caller_sid)
    if call is None:
        raise NoCallSid
    now = services.clock()
    return CallContext(
        session, services.flow, services.settings, services.twilio, now, call, sms=services.sms
    )


def open_agent_call(session: Session, params: VoiceParams, services: Services) -> AgentContext:
    now = services.clock()
    leg, agent = find_or_open_leg(session, params, services.settings.default_region, now)
    return AgentContext(
        session,
        services.flow,
        services.settings,
        services.twilio,
        now,
        leg,
        agent,
        sms=services.sms,
    )


def find_or_open_call(session: Session, params: VoiceParams, region: str, now: datetime) -> Call:
    if not params.call_sid:
        raise NoCallSid
    call = CALL_BY_SID.one_or_none(session, params.call_sid)
    if call is not None:
        return call
    caller = to_e164(params.from_, region)
    call = Call.begun(params.call_sid, now, CallStage.LANGUAGE)
    call.caller, call.called = caller, to_e164(params.to, region)
    if caller is not None:
        # Only a claim: caller ID can be spoofed, so it never verifies anyone.
        customer_id = session.scalar(CUSTOMER_BY_PHONE, {"phone": caller})
        call.claimed_customer_id = customer_id
        call.claimed_by_caller_id = customer_id is not None
    identified = "known" if call.claimed_by_caller_id else "unknown" if caller else "withheld"
    session.add(call)
    session.flush()
    started = CallEvent(
        call_id=call.id, kind="call.started", data={"caller_id": identified}, at=now
    )
    session.add(started)
    return call


# Every agent's webhook runs it first, built once as CALL_BY_SID is.
LEG_BY_SID = (
    select(AgentCall, Agent)
    .outerjoin(Agent, Agent.id == AgentCall.agent_id)
    .outerjoin(AgentCall.caller_call)
    .options(contains_eager(AgentCall.caller_call))
    .where(AgentCall.call_sid == bindparam("call_sid"))
)


def find_or_open_leg(
    session: Session, params: VoiceParams, region: str, now: datetime
) -> tuple[AgentCall, Agent | None]:
    """The agent's call and the agent it claims to be, in one query whoever calls: a
    stranger's request takes the same path as an agent's. The caller the call is about
    comes with them, so that a step's ``session.get`` of it asks nothing more."""
    if not params.call_sid:
        raise NoCallSid
    found = session.execute(LEG_BY_SID, {"call_sid": params.call_sid}).first()
    if found is not None:
        return found
    # The agent is the caller on the agent line, known by their phone number, and the
    # called party when rung, wherever they were rung (calls.reach).
    rung = params.direction.startswith("outbound")
    if rung:
        agent = rung_agent(session, params.to)
    else:
        agent = calling_agent(session, to_e164(params.from_, region))
    leg = AgentCall(
        call_sid=params.call_sid,
        agent_id=agent.id if agent else None,
        # Only a call Hotline placed may skip the PIN (queueing.agent_line): a call from
        # an agent's phone to the ring's URL is the agent line all the same.
        rung=rung,
        confirmed=False,
        started_at=now,
        stage=AgentStage.PIN,
        pin_failures=0,
        turn=0,
    )
    # Inserted with the step's first write, or at its end, as the step leaves it: one
    # INSERT, where a flush here added an UPDATE of the new row to it. Until then the
    # leg has no id; a racing first request for the same call still fails on the
    # unique CallSid, at that write.
    session.add(leg)
    return leg, agent
