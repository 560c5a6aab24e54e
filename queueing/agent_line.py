"""The agent line (SPEC §6): an agent calls in, is confirmed by caller ID and PIN, and
takes the next caller, goes available, or goes offline. Before taking a caller the
agent hears who is waiting and why, and accepts (1) or passes (2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Conference, Dial, VoiceResponse

from callflows.flow import Flow
from callflows.spoken import digits as one_by_one
from callflows.twiml import Line, Voice
from models import Agent, AgentCall, Call, CallEvent, Customer, RefundTicket
from queueing import ringing, routing
from settings import Settings
from telephony.params import VoiceParams
from telephony.rest import TwilioGateway, TwilioUnavailable
from telephony.urls import webhook_url
from verification.numbers import to_e164
from verification.secrets import AGENT_PIN, matches

PIN_ATTEMPTS = 3


@dataclass
class AgentContext:
    session: Session
    leg: AgentCall
    agent: Agent | None
    flow: Flow
    settings: Settings
    twilio: TwilioGateway
    now: datetime

    @property
    def voice(self) -> Voice:
        languages = self.agent.languages if self.agent else []
        language = next(
            (lang for lang in languages if lang in self.flow.languages), self.flow.default_language
        )
        return Voice(self.flow, language)

    def record(self, kind: str, **data: Any) -> None:
        """Agent steps go on the caller's record when they concern one."""
        if self.leg.caller_call_id is not None:
            data = {"agent": self.agent.id if self.agent else None, **data}
            self.session.add(CallEvent(call_id=self.leg.caller_call_id, kind=kind, data=data))


def find_or_open_leg(session: Session, params: VoiceParams, region: str) -> AgentCall:
    leg = session.scalars(select(AgentCall).where(AgentCall.call_sid == params.call_sid)).first()
    if leg is None:
        # The agent is the caller on the agent line, and the called party when rung.
        rung = params.direction.startswith("outbound")
        phone = to_e164(params.to if rung else params.from_, region)
        agent_id = session.scalar(select(Agent.id).where(Agent.phone == phone)) if phone else None
        leg = AgentCall(
            call_sid=params.call_sid,
            agent_id=agent_id,
            confirmed=False,
            stage="pin",
            pin_failures=0,
            turn=0,
        )
        session.add(leg)
        session.flush()
    return leg


def greet(ctx: AgentContext) -> VoiceResponse:
    if ctx.agent is None:  # only agents' own phones may use the agent line
        return _goodbye(ctx, [ctx.flow.agents.texts.not_recognised])
    return _ask_pin(ctx)


def check_pin(ctx: AgentContext, entered: str) -> VoiceResponse:
    texts = ctx.flow.agents.texts
    agent = ctx.agent
    key = ctx.settings.secret_key_bytes()
    if agent is not None and entered and matches(key, AGENT_PIN, agent.id, entered, agent.pin_hash):
        ctx.leg.confirmed = True
        return menu(ctx)
    ctx.leg.pin_failures += 1
    if ctx.leg.pin_failures >= PIN_ATTEMPTS:
        return _goodbye(ctx, [texts.not_recognised])
    return _ask_pin(ctx)


def menu(ctx: AgentContext, preface: list[Line] | None = None) -> VoiceResponse:
    ctx.leg.stage = "menu"
    ctx.leg.caller_call_id = None
    return ctx.voice.ask(
        [*(preface or []), ctx.flow.agents.texts.menu],
        webhook_url("agents.menu"),
        single_key=True,
        timeout=8,
    )


def choose(ctx: AgentContext, key: str) -> VoiceResponse:
    agent, texts = ctx.agent, ctx.flow.agents.texts
    assert agent is not None and ctx.leg.confirmed
    if key == "1":
        return take_next(ctx)
    if key == "2":
        _set_status(ctx, "available")
        return _goodbye(ctx, [texts.available])
    if key == "3":
        _set_status(ctx, "offline")
        return _goodbye(ctx, [texts.offline])
    return menu(ctx)


def ring_answered(ctx: AgentContext, caller_id: int | None) -> VoiceResponse:
    """A rung agent picked up: whisper the caller they were rung for, if still waiting."""
    agent = ctx.agent
    if agent is None:
        return _goodbye(ctx, [ctx.flow.agents.texts.not_recognised])
    # Hotline dialled the agent's own registered phone: no PIN to ask.
    ctx.leg.rung = ctx.leg.confirmed = True
    caller = ctx.session.get(Call, caller_id) if caller_id is not None else None
    if caller is None or caller.stage != "queued" or caller.offered_agent_id != agent.id:
        # Answered too late: another agent has the caller, or they left.
        _set_status(ctx, "available")
        return _goodbye(ctx, [ctx.flow.agents.texts.gone])
    return _offer(ctx, caller)


def ring_ended(ctx: AgentContext, caller_id: int | None, status: str) -> VoiceResponse:
    """The status callback of a ring. Never answered: the agent missed it and goes
    offline until they call in. Answered but left before accepting or passing: the
    agent stays available. Either way the caller is free for the next agent."""
    agent = ctx.agent
    caller = ctx.session.get(Call, caller_id) if caller_id is not None else None
    if agent is None or caller is None or caller.stage != "queued":
        return VoiceResponse()
    if caller.offered_agent_id != agent.id:
        return VoiceResponse()
    missed = status in ("no-answer", "busy", "failed", "canceled")
    routing.reserve(caller, None, ctx.now)
    _set_status(ctx, "offline" if missed else "available")
    ctx.session.add(
        CallEvent(
            call_id=caller.id,
            kind="agent.missed" if missed else "agent.left",
            data={"agent": agent.id, "status": status},
        )
    )
    ringing.ring_for(ctx.session, caller, ctx.twilio, ctx.now, exclude=agent.id)
    return VoiceResponse()


def take_next(ctx: AgentContext) -> VoiceResponse:
    assert ctx.agent is not None
    caller = routing.offer_next_caller(ctx.session, ctx.agent, ctx.now)
    if caller is None:
        return menu(ctx, [ctx.flow.agents.texts.no_callers])
    return _offer(ctx, caller)


def _offer(ctx: AgentContext, caller: Call) -> VoiceResponse:
    ctx.leg.stage = "whisper"
    ctx.leg.caller_call_id = caller.id
    ctx.record("agent.offered")
    return ctx.voice.ask(
        [*whisper(ctx, caller), ctx.flow.agents.texts.accept],
        webhook_url("agents.answer_offer"),
        single_key=True,
        timeout=8,
    )


def answer_offer(ctx: AgentContext, key: str) -> VoiceResponse:
    agent, caller_id, texts = ctx.agent, ctx.leg.caller_call_id, ctx.flow.agents.texts
    assert agent is not None
    if caller_id is None:
        return menu(ctx)
    if key != "1":  # 2, or silence: pass the caller on
        routing.release(ctx.session, caller_id, agent.id)
        ctx.record("agent.passed")
        if not ctx.leg.rung:
            return menu(ctx)
        _set_status(ctx, "available")
        caller = ctx.session.get(Call, caller_id)
        if caller is not None:
            ctx.session.refresh(caller)
            ringing.ring_for(ctx.session, caller, ctx.twilio, ctx.now, exclude=agent.id)
        return _goodbye(ctx, [])
    if not routing.claim(ctx.session, caller_id, agent.id):
        if ctx.leg.rung:
            _set_status(ctx, "available")
            return _goodbye(ctx, [texts.gone])
        return menu(ctx, [texts.gone])
    caller = ctx.session.get(Call, caller_id)
    assert caller is not None
    ctx.session.refresh(caller)
    try:
        ctx.twilio.dequeue(
            caller.queue_sid or "", caller.call_sid, webhook_url("queueing.connect", absolute=True)
        )
    except TwilioUnavailable:
        # Put the caller back exactly as they were, for the next agent.
        caller.stage, caller.agent_id = "queued", None
        routing.reserve(caller, None, ctx.now)
        return menu(ctx, [texts.gone])
    ctx.leg.stage = "connected"
    _set_status(ctx, "busy")
    ctx.record("agent.connected")
    response = VoiceResponse()
    ctx.voice.say(response, texts.connecting)
    dial = Dial(action=webhook_url("agents.after"), method="POST")
    dial.append(conference(caller.call_sid))
    response.append(dial)
    return response


def after_call(ctx: AgentContext) -> VoiceResponse:
    """The agent's side of the conversation ended: a short wrap-up, then ready again."""
    ctx.leg.stage = "wrap_up"
    _set_status(ctx, "wrap_up")
    return ctx.voice.ask(
        [ctx.flow.agents.texts.wrap_up], webhook_url("agents.ready"), single_key=True, timeout=20
    )


def ready(ctx: AgentContext, key: str) -> VoiceResponse:
    """After wrap-up: 1 takes the next caller now; anything else leaves the agent
    available, to be called when callers wait."""
    if key == "1":
        return take_next(ctx)
    _set_status(ctx, "available")
    return _goodbye(ctx, [ctx.flow.agents.texts.available])


def whisper(ctx: AgentContext, caller: Call) -> list[Line]:
    """Who is waiting and why: verified or not, name, language, topic, what they tried."""
    group, texts = ctx.flow.agents, ctx.flow.agents.texts
    language = ctx.voice.language
    customer = ctx.session.get(Customer, caller.customer_id) if caller.customer_id else None
    lines: list[Line] = [
        (
            texts.whisper,
            {
                "verified": (texts.verified if caller.verified else texts.unverified)[language],  # type: ignore[index]
                "who": texts.named[language].format(name=customer.name) if customer else "",  # type: ignore[index]
                "language": group.language_names.get(
                    caller.language or ctx.flow.default_language, {}
                ).get(language, ""),  # type: ignore[call-overload]
                "topic": group.queue_names[caller.queue or "general"][language],  # type: ignore[index]
            },
        )
    ]
    answers = [
        event.data.get("answer")
        for event in ctx.session.scalars(
            select(CallEvent)
            .where(CallEvent.call_id == caller.id, CallEvent.kind == "answer.given")
            .order_by(CallEvent.id)
        )
    ]
    heard = [
        group.answer_names[name][language]  # type: ignore[index]
        for name in dict.fromkeys(answers)
        if name in group.answer_names
    ]
    if heard:
        lines.append((texts.tried, {"steps": ", ".join(heard)}))
    ticket = ctx.session.scalars(
        select(RefundTicket).where(RefundTicket.call_id == caller.id)
    ).first()
    if ticket is not None:
        lines.append((texts.ticket, {"reference": one_by_one(ticket.reference)}))
    return lines


def conference(caller_sid: str) -> Conference:
    """The room where one caller meets one agent; it ends when either hangs up."""
    return Conference(
        f"hotline-{caller_sid}",
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        beep=False,
        wait_url="",
    )


def resume(ctx: AgentContext) -> VoiceResponse:
    if ctx.leg.stage == "pin" or not ctx.leg.confirmed:
        return greet(ctx)
    if ctx.leg.stage == "ended":
        return _goodbye(ctx, [])
    if ctx.leg.stage == "wrap_up":
        return after_call(ctx)
    return menu(ctx)


def _ask_pin(ctx: AgentContext) -> VoiceResponse:
    ctx.leg.stage = "pin"
    return ctx.voice.ask([ctx.flow.agents.texts.ask_pin], webhook_url("agents.pin"))


def _set_status(ctx: AgentContext, status: str) -> None:
    assert ctx.agent is not None
    ctx.agent.status = status
    ctx.agent.status_since = ctx.now


def _goodbye(ctx: AgentContext, lines: list[Line]) -> VoiceResponse:
    ctx.leg.stage = "ended"
    response = VoiceResponse()
    for line in lines:
        ctx.voice.say(response, line)
    response.hangup()
    return response
