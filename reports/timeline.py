"""A call's timeline for the console: its recorded steps (``CallEvent``) as readable
lines in time order, with what surrounds them: verification, the queue and the wait,
the agent, talk time, the wrap-up's disposition and notes, the rating, voicemails and
callbacks. Steps never hold PINs or codes (``CallContext.record``), so none is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowfile.flow import Flow
from flowfile.menus import AnswerOption, MenuOption, QueueOption, SayOption
from models import Agent, AgentCall, Call, CallbackRequest, CallEvent, Customer, Voicemail
from reports.calls import WORDS, FoundCall, branch_name, found_call

Data = Mapping[str, Any]


@dataclass(frozen=True)
class Line:
    at: datetime  # local
    kind: str  # the step's kind, e.g. menu.chosen
    text: str


@dataclass(frozen=True)
class WrapUp:
    agent: str
    disposition: str | None  # in the console's words
    notes: str | None


@dataclass(frozen=True)
class Recording:
    voicemail_id: int
    seconds: int | None
    status: str


@dataclass(frozen=True)
class Callback:
    id: int
    status: str
    attempts: int
    agent: str | None


@dataclass(frozen=True)
class Timeline:
    call: FoundCall
    customer_name: str | None  # only for a verified caller
    language: str | None
    waited_seconds: int | None  # from joining the queue to an agent, or to leaving it
    talk_seconds: int | None
    rating: int | None
    lines: list[Line]
    wrap_ups: list[WrapUp]
    recordings: list[Recording]
    callbacks: list[Callback]


def timeline(session: Session, flow: Flow, call: Call) -> Timeline:
    events = list(
        session.scalars(
            select(CallEvent)
            .where(CallEvent.call_id == call.id)
            .order_by(CallEvent.at, CallEvent.id)
        )
    )
    legs = list(
        session.scalars(
            select(AgentCall).where(AgentCall.caller_call_id == call.id).order_by(AgentCall.id)
        )
    )
    callbacks = list(
        session.scalars(
            select(CallbackRequest)
            .where(CallbackRequest.call_id == call.id)
            .order_by(CallbackRequest.id)
        )
    )
    named = {str(e.data["agent"]) for e in events if isinstance(e.data.get("agent"), str)}
    named |= {leg.agent_id for leg in legs if leg.agent_id}
    named |= {callback.agent_id for callback in callbacks if callback.agent_id}
    rows = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(named)))
    names = {agent_id: name for agent_id, name in rows}
    zone = ZoneInfo(flow.timezone)
    customer = session.get(Customer, call.customer_id) if call.customer_id else None
    voicemails = session.scalars(
        select(Voicemail).where(Voicemail.call_id == call.id).order_by(Voicemail.id)
    )
    return Timeline(
        call=found_call(session, flow, call),
        customer_name=customer.name if customer else None,
        language=_language(flow, call.language),
        waited_seconds=_waited(call, events),
        talk_seconds=call.talk_seconds,
        rating=call.rating,
        lines=[
            Line(event.at.astimezone(zone), event.kind, describe(flow, names, event))
            for event in events
        ],
        wrap_ups=[
            WrapUp(
                names.get(leg.agent_id or "", leg.agent_id or "an unknown agent"),
                _disposition(flow, leg.disposition),
                leg.notes,
            )
            for leg in legs
            if leg.disposition or leg.notes
        ],
        recordings=[Recording(v.id, v.duration_seconds, v.status) for v in voicemails],
        callbacks=[
            Callback(c.id, c.status, c.attempts, names.get(c.agent_id or "")) for c in callbacks
        ],
    )


def describe(flow: Flow, names: Mapping[str, str], event: CallEvent) -> str:
    """One step in an operator's words; a kind this does not know, as recorded."""
    data = event.data
    agent = names.get(str(data.get("agent")), str(data.get("agent") or "an agent"))
    told = _TOLD.get(event.kind)
    if told is not None:
        return told(flow, data, agent)
    shown = ", ".join(f"{key}: {value}" for key, value in data.items() if value is not None)
    return f"{event.kind} ({shown})" if shown else event.kind


def _waited(call: Call, events: list[CallEvent]) -> int | None:
    if call.queued_at is not None and call.answered_at is not None:
        return max(0, round((call.answered_at - call.queued_at).total_seconds()))
    left = [e.data.get("seconds") for e in events if e.kind == "queue.left"]
    return left[-1] if left and isinstance(left[-1], int) else None


def _language(flow: Flow, language: str | None) -> str | None:
    if language is None:
        return None
    names = {str(code): text for code, text in flow.agents.language_names.items()}
    return names.get(language, {}).get(WORDS, language)


def _disposition(flow: Flow, code: str | None) -> str | None:
    if code is None:
        return None
    return flow.agents.dispositions.get(code, {}).get(WORDS, code)


def _answer(flow: Flow, name: object) -> str:
    return flow.agents.answer_names.get(str(name), {}).get(WORDS, str(name))


def _queue(flow: Flow, queue: object) -> str:
    return branch_name(flow, str(queue)) or "a queue"


def _option(flow: Flow, menu: str, key: str) -> str:
    """Where ``key`` leads from ``menu`` in the flow as it is now."""
    keys = flow.keys
    if key == keys.agent:
        queue = flow.menu_queue(menu) if menu in flow.menus else "general"
        return f"an agent ({_queue(flow, queue)})"
    special = {keys.back: "back", keys.repeat: "repeat"}
    if key in special:
        return special[key]
    option = flow.menus[menu].options.get(key) if menu in flow.menus else None
    if isinstance(option, MenuOption):
        return f"menu {option.menu}"
    if isinstance(option, SayOption):
        return "information"
    if isinstance(option, AnswerOption):
        return _answer(flow, option.answer)
    if isinstance(option, QueueOption):
        return _queue(flow, option.queue)
    return "?"


def _chosen(flow: Flow, data: Data, _: str) -> str:
    menu, key = str(data.get("menu")), str(data.get("key"))
    how = f"said “{data['speech']}”, taken as {key}" if data.get("speech") else f"pressed {key}"
    return f"Menu {menu}: {how} → {_option(flow, menu, key)}"


def _missed(_: Flow, data: Data, __: str) -> str:
    if data.get("speech"):
        heard = f"said “{data['speech']}”"
    elif data.get("key"):
        heard = f"pressed {data['key']}"
    else:
        heard = "silence"
    return f"Menu {data.get('menu')}: not understood ({heard}), miss {data.get('misses')}"


def _verified(_: Flow, data: Data, __: str) -> str:
    method = {"pin": "PIN", "sms_code": "SMS code"}.get(str(data.get("method")), "?")
    via = "caller ID" if data.get("via") == "caller_id" else "a keyed-in number"
    return f"Verified by {method} (the customer found by {via})"


def _left_queue(flow: Flow, data: Data, _: str) -> str:
    result, reason = data.get("result"), data.get("reason")
    how = {
        "bridged": "taken by an agent",
        "hangup": "hung up",
        "leave": f"left ({reason})" if reason else "left",
    }.get(str(result), f"left ({result})")
    seconds = data.get("seconds")
    after = f" after {_duration(seconds)}" if isinstance(seconds, int) else ""
    return f"Left {_queue(flow, data.get('queue'))}: {how}{after}"


def _started(_: Flow, data: Data, __: str) -> str:
    who = {"known": "a customer's number", "unknown": "an unknown number"}
    return f"Call began from {who.get(str(data.get('caller_id')), 'a withheld number')}"


def _duration(seconds: object) -> str:
    if not isinstance(seconds, int):
        return "?"
    return f"{seconds // 60}:{seconds % 60:02d}"


def _side(data: Data) -> str:
    return {"caller": "The caller", "agent": "The agent"}.get(str(data.get("side")), "Someone")


Told = Callable[[Flow, Data, str], str]
_TOLD: dict[str, Told] = {
    "call.started": _started,
    "language.chosen": lambda f, d, _: (
        f"Language: {_language(f, d.get('language'))}"
        + ("" if d.get("pressed") else " (none pressed: the default)")
    ),
    "verification.number_entered": lambda _, d, __: (
        ("Claimed the caller ID: " if d.get("this_phone") else "Keyed in ")
        + ("a customer's number" if d.get("registered") else "an unknown number")
    ),
    "verification.sms_sent": lambda *_: "SMS code sent",
    "verification.sms_withheld": lambda _, d, __: f"No SMS code sent ({d.get('reason')})",
    "verification.sms_failed": lambda *_: "SMS code could not be sent",
    "verification.failed": lambda _, d, __: f"Verification failed (attempt {d.get('attempt')})",
    "verification.no_input": lambda _, d, __: (
        f"Nothing keyed at verification (attempt {d.get('attempt')})"
    ),
    "verification.locked": lambda *_: "Verification locked: the attempt was refused",
    "verification.verified": _verified,
    "verification.agent_asked": lambda *_: "Asked for an agent during verification",
    "offer.declined": lambda *_: "Declined the offer of an agent",
    "menu.chosen": _chosen,
    "menu.missed": _missed,
    "menu.goodbye": lambda _, d, __: f"Menu {d.get('menu')}: goodbye",
    "info.given": lambda *_: "Heard the information",
    "answer.given": lambda f, d, _: f"Heard {_answer(f, d.get('answer'))}",
    "answer.proposed": lambda f, d, _: f"Asked to confirm {_answer(f, d.get('answer'))}",
    "answer.confirmed": lambda f, d, _: f"Confirmed {_answer(f, d.get('answer'))}",
    "answer.declined": lambda *_: "Did not confirm",
    "answer.refused": lambda f, d, _: f"Not told {_answer(f, d.get('answer'))}: not verified",
    "refund.requested": lambda _, d, __: f"Refund requested: reference {d.get('reference')}",
    "refund.refused": lambda *_: "Refund not possible",
    "account.frozen": lambda *_: "Account frozen by the caller",
    "queue.entered": lambda f, d, _: f"Queued for {_queue(f, d.get('queue'))}",
    "queue.closed": lambda f, d, _: f"{_queue(f, d.get('queue'))} closed (outside hours)",
    "queue.overflow": lambda *_: "Put through to the duty team (overflow)",
    "queue.overflow_unanswered": lambda *_: "The duty team did not answer",
    "queue.hold_music_failed": lambda *_: "Hold music could not play: Hotline's tone instead",
    "queue.left": _left_queue,
    "queue.returned": lambda *_: "Back in the queue: the agent did not come",
    "agent.rung": lambda _, __, a: f"Rang {a}",
    "agent.ring_failed": lambda _, __, a: f"Could not ring {a}",
    "agent.offered": lambda _, __, a: f"{a} heard about the caller",
    "agent.connected": lambda _, __, a: f"{a} took the call",
    "agent.missed": lambda _, __, a: f"{a} missed the ring",
    "agent.busy_on_line": lambda _, __, a: f"{a} was busy on the line",
    "agent.passed": lambda _, __, a: f"{a} passed",
    "agent.call_ended": lambda _, d, a: f"Talked with {a} for {_duration(d.get('seconds'))}",
    "agent.not_connected": lambda _, __, a: f"{a} never came to the call",
    "conference.started": lambda *_: "The agent's room opened",
    "conference.ended": lambda *_: "The agent's room closed",
    "conference.joined": lambda _, d, __: f"{_side(d)} joined the room",
    "conference.left": lambda _, d, __: f"{_side(d)} left the room",
    "voicemail.left": lambda _, d, __: f"Left a voicemail ({_duration(d.get('seconds'))})",
    "voicemail.closed": lambda _, d, __: f"Voicemail marked done by operator {d.get('operator')}",
    "callback.requested": lambda f, d, _: f"Asked for a callback ({_queue(f, d.get('topic'))})",
    "callback.impossible": lambda *_: "No callback possible: the number is withheld",
    "callback.placed": lambda _, __, a: f"Called back by {a}",
    "callback.accepted": lambda *_: "Pressed 1 to take the callback",
    "callback.no_key": lambda *_: "Answered the callback but never pressed 1",
    "callback.agent_gone": lambda *_: "The agent left before the customer joined: to call again",
    "callback.ended": lambda _, d, __: f"Callback call ended ({d.get('result')})",
    "callback.closed": lambda _, d, __: f"Callback marked done by operator {d.get('operator')}",
    "call.rated": lambda _, d, __: f"Rated the call {d.get('rating')}/5",
    "call.ended": lambda _, d, __: f"Call ended ({d.get('status')}, {_duration(d.get('seconds'))})",
}
