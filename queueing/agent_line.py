"""The agent line (SPEC §6): an agent calls in, is confirmed by caller ID and PIN, and
takes the next caller, goes available, or goes offline. Before taking a caller the
agent hears who is waiting and why, and accepts (1) or passes (2). A rung agent
first presses a key to hear it, so that a voicemail never takes the whisper. How
each call ends is ``queueing.agent_ends``."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Integer, bindparam, select

from calls.context import AgentContext
from calls.spoken import reference
from calls.twiml import Document, Line, Verbatim
from models import Agent, Call, CallbackRequest, CallEvent, Customer, RefundTicket
from models.agents import AgentStage, AgentStatus
from models.calls import CallStage
from queueing import agent_ends, callback_queue, callbacks, conference, ringing, routing
from telephony.urls import webhook_url
from verification.agents import check_agent_pin

Row = TypeVar("Row", Call, CallbackRequest)
PIN_ATTEMPTS = 3
RING_KEY_SECONDS = 8  # after "press 1 to hear it": then nobody is there (a voicemail)


class NoAgent(RuntimeError):
    """A step that only a confirmed agent can reach ran without one."""


def greet(ctx: AgentContext) -> Document:
    """Every caller ID is asked for the PIN, and hears the same until it matches (SPEC
    §5): only a PIN that matches an agent whose phone this is lets anyone in."""
    return _ask_pin(ctx)


def check_pin(ctx: AgentContext, entered: str, caller: str) -> Document:
    """``caller``: the number calling, as Twilio gives it (whose lock a stranger's
    PINs count against: verification.agents)."""
    if check_agent_pin(ctx.session, ctx.settings, ctx.agent, caller, entered, ctx.now):
        ctx.leg.confirmed = True
        return menu(ctx)
    ctx.leg.pin_failures += 1
    if ctx.leg.pin_failures >= PIN_ATTEMPTS:
        return _goodbye(ctx, [ctx.flow.agents.texts.not_recognised])
    return _ask_pin(ctx)


def menu(ctx: AgentContext, preface: list[Line] | None = None) -> Document:
    ctx.leg.stage = AgentStage.MENU
    ctx.leg.caller_call_id = ctx.leg.callback_id = None
    return ctx.voice.ask(
        [*(preface or []), ctx.flow.agents.texts.menu],
        webhook_url("agents.menu"),
        single_key=True,
        timeout=8,
    )


def choose(ctx: AgentContext, key: str) -> Document:
    texts = ctx.flow.agents.texts
    if key == "1":
        return take_next(ctx)
    if key == "2":
        _set_status(ctx, AgentStatus.AVAILABLE)
        return _goodbye(ctx, [texts.available])
    if key == "3":
        _set_status(ctx, AgentStatus.OFFLINE)
        return _goodbye(ctx, [texts.offline])
    return menu(ctx)


def ring_answered(ctx: AgentContext, caller_id: int | None, callback_id: int | None) -> Document:
    """A rung agent picked up: ask for a key before the whisper, if the caller (or the
    callback) they were rung for still waits for them."""
    agent = _rung_agent(ctx)
    if agent is None:
        return _goodbye(ctx, [ctx.flow.agents.texts.not_recognised])
    if callback_id is not None:
        callback = _kept_callback(ctx, agent, callback_id)
        if callback is None:
            return _too_late(ctx)
        ctx.leg.callback_id = callback.id
        return ring_prompt(ctx)
    caller = ctx.session.get(Call, caller_id) if caller_id is not None else None
    if caller is not None and _accepted_on_desk(agent, caller):
        return joined_from_desk(ctx, caller)
    if caller is None or caller.stage != CallStage.QUEUED or caller.offered_agent_id != agent.id:
        return _too_late(ctx)
    ctx.leg.caller_call_id = caller.id
    return ring_prompt(ctx)


def callback_answered(ctx: AgentContext, callback_id: int | None) -> Document:
    """An agent who accepted a callback on the desk answered the ring: no key, no
    whisper (they have read it); the customer is called at once."""
    agent = _rung_agent(ctx)
    if agent is None:
        return _goodbye(ctx, [ctx.flow.agents.texts.not_recognised])
    callback = _kept_callback(ctx, agent, callback_id) if callback_id is not None else None
    if callback is None:
        return _too_late(ctx)
    ctx.leg.callback_id = callback.id
    return _call_back(ctx, agent, callback, agent.status)


def _rung_agent(ctx: AgentContext) -> Agent | None:
    """The agent Hotline dialled (no PIN to ask: it reached their own phone or endpoint);
    None for any call Hotline did not place, whoever's caller ID it carries."""
    if ctx.agent is None or not ctx.leg.rung:
        return None
    ctx.leg.confirmed = True
    return ctx.agent


def _kept_callback(ctx: AgentContext, agent: Agent, callback_id: int) -> CallbackRequest | None:
    callback = ctx.session.get(CallbackRequest, callback_id)
    if callback is None or not callback_queue.is_reserved_for(callback, agent.id, ctx.now):
        return None
    return callback


def ring_prompt(ctx: AgentContext) -> Document:
    """ "A Hotline call, press 1 to hear it"; said again to a late request."""
    ctx.leg.stage = AgentStage.RING
    return ctx.voice.ask(
        [ctx.flow.agents.texts.ring],
        webhook_url("agents.ring_key"),
        single_key=True,
        timeout=RING_KEY_SECONDS,
    )


def take_ring(ctx: AgentContext, key: str) -> Document:
    """Any key: a person is there, who hears the whisper. None: the call was taken by a
    voicemail or an answering machine, which never presses one; a missed ring."""
    agent = _agent(ctx)
    if ctx.leg.callback_id is not None:
        callback = _their_callback(ctx)
        if not key:
            agent_ends.missed(ctx, agent, None, "no key", callback)
            return _goodbye(ctx, [])
        if not callback_queue.is_reserved_for(callback, agent.id, ctx.now):
            return _too_late(ctx)
        return _offer_callback(ctx, callback)
    caller = _their_caller(ctx)
    if _accepted_on_desk(agent, caller):
        return joined_from_desk(ctx, caller)
    if not key:
        agent_ends.missed(ctx, agent, caller, "no key")
        return _goodbye(ctx, [])
    if caller.stage != CallStage.QUEUED or caller.offered_agent_id != agent.id:
        return _too_late(ctx)
    return _offer(ctx, caller)


def joined_from_desk(ctx: AgentContext, caller: Call | None = None) -> Document:
    """The agent accepted ``caller`` on the desk (queueing.desk): their phone goes
    straight into the caller's room, whether it was moved there from the ring or the
    whisper, or answered only now. A late key then finds the call connected, whose
    replay (``talking``) changes nothing."""
    caller = caller or _their_caller(ctx)
    ctx.leg.caller_call_id, ctx.leg.stage = caller.id, AgentStage.CONNECTED
    return _join(ctx, caller, [ctx.flow.agents.texts.connecting])


def _accepted_on_desk(agent: Agent, caller: Call) -> bool:
    """The caller is this agent's and on the way to their room, not yet with them: the
    desk's Accept came before the phone got that far."""
    return (
        caller.stage == CallStage.CONNECTED
        and caller.agent_id == agent.id
        and caller.agent_joined_at is None
    )


def _too_late(ctx: AgentContext) -> Document:
    """Answered too late: another agent has the caller, or they left."""
    _set_status(ctx, AgentStatus.AVAILABLE)
    return _goodbye(ctx, [ctx.flow.agents.texts.gone])


def take_next(ctx: AgentContext) -> Document:
    """Whatever comes first for this agent: a waiting caller, or a due callback. Nobody
    while they are busy: on a call elsewhere (the desk, a ring in the browser) or being
    rung for one; an agent gets one caller at a time."""
    agent, no_callers = _agent(ctx), ctx.flow.agents.texts.no_callers
    if agent.status == AgentStatus.BUSY:
        return menu(ctx, [ctx.flow.agents.texts.on_a_call])
    hours = callback_queue.hours_open(ctx)
    work = callback_queue.next_work(ctx.session, agent, ctx.now, hours)
    if isinstance(work, CallbackRequest):
        if not callback_queue.reserve(ctx.session, work, agent.id, ctx.now):
            return menu(ctx, [no_callers])
        return _offer_callback(ctx, work)
    if work is None:
        return menu(ctx, [no_callers])
    routing.reserve(work, agent.id, ctx.now)
    return _offer(ctx, work)


def _offer_callback(ctx: AgentContext, callback: CallbackRequest) -> Document:
    ctx.leg.stage = AgentStage.WHISPER
    ctx.leg.caller_call_id, ctx.leg.callback_id = None, callback.id
    return _ask_to_call_back(ctx, callback)


def _ask_to_call_back(ctx: AgentContext, callback: CallbackRequest) -> Document:
    return ctx.voice.ask(
        [*callbacks.whisper(ctx, callback), ctx.flow.agents.texts.accept],
        webhook_url("agents.answer_offer"),
        single_key=True,
        timeout=8,
    )


def _answer_callback(ctx: AgentContext, agent: Agent, key: str) -> Document:
    callback = _their_callback(ctx)
    if key != "1":  # 2, or silence: pass it on
        callbacks.pass_on(ctx, agent, callback.id)
        if not ctx.leg.rung:
            return menu(ctx)
        _set_status(ctx, AgentStatus.AVAILABLE)
        return _goodbye(ctx, [])
    was = agent.status
    if not _take(ctx, agent):
        callback_queue.release(ctx.session, callback, agent.id)
        ringing.ring_for_callback(ctx, callback, exclude=agent.id)
        return menu(ctx, [ctx.flow.agents.texts.on_a_call])
    return _call_back(ctx, agent, callback, was)


def _call_back(
    ctx: AgentContext, agent: Agent, callback: CallbackRequest, was: AgentStatus
) -> Document:
    joined = callbacks.call_customer(ctx, agent, callback)
    if joined is not None:
        return joined
    if ctx.leg.rung:
        _set_status(ctx, AgentStatus.AVAILABLE)
        return _goodbye(ctx, [ctx.flow.agents.texts.gone])
    return _took_nobody(ctx, agent, was)


def _offer(ctx: AgentContext, caller: Call) -> Document:
    ctx.leg.stage = AgentStage.WHISPER
    ctx.leg.caller_call_id = caller.id
    ctx.record("agent.offered")
    return _ask_to_accept(ctx, caller)


def _ask_to_accept(ctx: AgentContext, caller: Call) -> Document:
    return ctx.voice.ask(
        [*whisper(ctx, caller), ctx.flow.agents.texts.accept],
        webhook_url("agents.answer_offer"),
        single_key=True,
        timeout=8,
    )


def whisper_again(ctx: AgentContext) -> Document:
    """What a late request hears while the agent is deciding: the same whisper and
    question, and nothing changes (the caller stays reserved for this agent)."""
    if ctx.leg.callback_id is not None:
        return _ask_to_call_back(ctx, _their_callback(ctx))
    return _ask_to_accept(ctx, _their_caller(ctx))


def talking(ctx: AgentContext) -> Document:
    """What a late request hears while the agent talks: their room again, so the Dial
    action still leads to wrap-up; no second dequeue, nothing changes."""
    return _join(ctx, _their_caller(ctx), [])


def answer_offer(ctx: AgentContext, key: str) -> Document:
    agent, caller_id, texts = _agent(ctx), ctx.leg.caller_call_id, ctx.flow.agents.texts
    if ctx.leg.callback_id is not None:
        return _answer_callback(ctx, agent, key)
    if caller_id is None:
        return menu(ctx)
    caller = ctx.session.get(Call, caller_id)
    if key != "1":  # 2, or silence: pass the caller on
        if caller is not None:
            agent_ends.passed(ctx, agent, caller)
        if not ctx.leg.rung:
            return menu(ctx)
        _set_status(ctx, AgentStatus.AVAILABLE)
        return _goodbye(ctx, [])
    was = agent.status
    if not _take(ctx, agent):
        if caller is not None and caller.offered_agent_id == agent.id:
            routing.release(ctx.session, caller_id, agent.id)
            ctx.session.refresh(caller)
            ringing.ring_for(ctx, caller, exclude=agent.id)
        return menu(ctx, [texts.on_a_call])
    caller = routing.claim(ctx.session, caller_id, agent.id, ctx.now) if caller else None
    if caller is None:
        if ctx.leg.rung:
            _set_status(ctx, AgentStatus.AVAILABLE)
            return _goodbye(ctx, [texts.gone])
        return _took_nobody(ctx, agent, was)
    if not conference.bring_caller(ctx, caller):
        return _took_nobody(ctx, agent, was)
    ctx.leg.stage = AgentStage.CONNECTED
    if ctx.leg.rung:
        _set_status(ctx, AgentStatus.BUSY)
    ctx.record("agent.connected")
    return _join(ctx, caller, [texts.connecting])


def _take(ctx: AgentContext, agent: Agent) -> bool:
    """An agent on the agent line accepting is busy from now, unless busy already since
    they heard the whisper (rung in the browser, the desk): one caller at a time, settled
    by a conditional UPDATE as a ring's is (``ringing.take_agent``). A rung agent was
    taken by their ring."""
    if ctx.leg.rung:
        return True
    other = [status for status in AgentStatus if status != AgentStatus.BUSY]
    return routing.set_status_from(ctx.session, agent, AgentStatus.BUSY, ctx.now, other)


def _took_nobody(ctx: AgentContext, agent: Agent, was: AgentStatus) -> Document:
    """The accept came to nothing (another agent was first, the caller left, Twilio
    refused): the agent is as they were before it, back at the menu."""
    if was != AgentStatus.BUSY:
        routing.set_status_from(ctx.session, agent, was, ctx.now, [AgentStatus.BUSY])
    return menu(ctx, [ctx.flow.agents.texts.gone])


def _join(ctx: AgentContext, caller: Call, said: list[Line]) -> Document:
    return conference.agent_joins(ctx, caller, said)


def after_call(ctx: AgentContext) -> Document:
    """The agent's side of the conversation ended: a short wrap-up, then ready again.
    An agent given up on for vanishing before the caller was with them stays offline
    (queueing.conference): their line has most likely dropped."""
    callbacks.agent_left(ctx)  # a customer still being called back: not any more
    ctx.leg.stage = AgentStage.WRAP_UP
    if _agent(ctx).status != AgentStatus.OFFLINE:
        _set_status(ctx, AgentStatus.WRAP_UP)
    return wrap_up(ctx, callbacks.told(ctx))


def wrap_up(ctx: AgentContext, preface: list[Line] | None = None) -> Document:
    """The wrap-up question, listening for AGENT_WRAP_UP_SECONDS; said again to a late
    request, which changes nothing. Hanging up ends wrap-up too (agent_ends)."""
    return ctx.voice.ask(
        [*(preface or []), ctx.flow.agents.texts.wrap_up],
        webhook_url("agents.ready"),
        single_key=True,
        timeout=ctx.settings.agent_wrap_up_seconds,
    )


def ready(ctx: AgentContext, key: str) -> Document:
    """After wrap-up: 1 takes the next caller now; another key or silence leaves the
    agent available, rung for the next caller once this call has ended."""
    routing.agent_free(ctx.session, _agent(ctx).id, ctx.now)
    if key == "1":
        return take_next(ctx)
    agent_ends.end_wrap_up(ctx, _agent(ctx))
    return _goodbye(ctx, [ctx.flow.agents.texts.available])


# What the whisper says of a caller besides their call's row: their name, if they are
# a customer, and the refund ticket their call opened, if any, in one query; and what
# they tried (the answers they heard, in order).
NAME_AND_TICKET = (
    select(Customer.name, RefundTicket.reference)
    .select_from(Call)
    .outerjoin(Customer, Customer.id == Call.customer_id)
    .outerjoin(RefundTicket, RefundTicket.call_id == Call.id)
    .where(Call.id == bindparam("caller_id", type_=Integer))
    .limit(1)
)
_ANSWERS = (
    select(CallEvent.data)
    .where(
        CallEvent.call_id == bindparam("caller_id", type_=Integer),
        CallEvent.kind == "answer.given",
    )
    .order_by(CallEvent.id)
)


def whisper(ctx: AgentContext, caller: Call) -> list[Line]:
    """Who is waiting and why: verified or not, name, language, topic, what they tried."""
    group, texts = ctx.flow.agents, ctx.flow.agents.texts
    language = ctx.voice.language
    about = {"caller_id": caller.id}
    named, ticket = ctx.session.execute(NAME_AND_TICKET, about).first() or (None, None)
    spoken_language = group.language_names.get(caller.language or ctx.flow.default_language)
    lines: list[Line] = [
        (
            texts.whisper,
            {
                "verified": (texts.verified if caller.verified else texts.unverified)[language],
                # A name in another script is said by that script's voice.
                "who": (texts.named, {"name": Verbatim(named)}) if named is not None else "",
                "language": spoken_language.get(language, "") if spoken_language else "",
                "topic": group.queue_names[caller.queue or "general"][language],
            },
        )
    ]
    answers = [data.get("answer") for data in ctx.session.scalars(_ANSWERS, about)]
    heard = [
        group.answer_names[name][language]
        for name in dict.fromkeys(answers)
        if isinstance(name, str) and name in group.answer_names
    ]
    if heard:
        lines.append((texts.tried, {"steps": ", ".join(heard)}))
    if ticket is not None:
        lines.append((texts.ticket, {"reference": reference(ticket, language)}))
    return lines


def goodbye(ctx: AgentContext) -> Document:
    return _goodbye(ctx, [])


def _ask_pin(ctx: AgentContext) -> Document:
    ctx.leg.stage = AgentStage.PIN
    return ctx.voice.ask([ctx.flow.agents.texts.ask_pin], webhook_url("agents.pin"))


def _their_caller(ctx: AgentContext) -> Call:
    return _named(ctx, Call, ctx.leg.caller_call_id)


def _their_callback(ctx: AgentContext) -> CallbackRequest:
    return _named(ctx, CallbackRequest, ctx.leg.callback_id)


def _named(ctx: AgentContext, model: type[Row], row_id: int | None) -> Row:
    """The row the agent's call names at this stage; a stage that needs one has one."""
    row = ctx.session.get(model, row_id) if row_id is not None else None
    if row is None:
        raise LookupError(f"agent call {ctx.leg.id} at {ctx.leg.stage} names no {model.__name__}")
    return row


def _agent(ctx: AgentContext) -> Agent:
    if ctx.agent is None or not ctx.leg.confirmed:
        raise NoAgent(f"agent call {ctx.leg.id} reached {ctx.leg.stage} unconfirmed")
    return ctx.agent


def _set_status(ctx: AgentContext, status: AgentStatus, agent: Agent | None = None) -> None:
    """The confirmed agent's status, or ``agent``'s: a ring's status callback speaks
    for an agent who never answered, so never confirmed."""
    routing.set_status(ctx.session, agent or _agent(ctx), status, ctx.now)


def _goodbye(ctx: AgentContext, lines: list[Line]) -> Document:
    ctx.leg.stage = AgentStage.ENDED
    return ctx.voice.goodbye(lines)
