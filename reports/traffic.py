"""Where callers went in the flow over a period, read from the calls and their events:
how many reached the greeting, verification, each menu and the agents' queues, and what
became of them at each (answered there, hung up there, went on to an agent).

Counts are of calls, each call once per place however often it came back there. Only
calls to the hotline count: the calls Hotline places to customers it calls back (those
with a ``callback.placed`` event) are no one's way through the menus.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, distinct, exists, func, select, union
from sqlalchemy.orm import Session, aliased

from flowfile.flow import Flow
from flowfile.menus import AnswerOption
from models import Call, CallEvent
from reports.period import Period

# What a menu's caller got there: an answer from their account, or fixed information.
ANSWERED = ("answer.given", "info.given")
# How a call that asked for an agent ended (``Call.outcome``); "other" holds the rest: hung
# up at the offer of voicemail or a callback, or still waiting.
AFTER_QUEUE = ("agent", "abandoned", "voicemail", "callback", "overflow", "other")
# A call still without an outcome has not been heard to end: it is counted as having left
# where it was last seen, as a call whose status callback never came must be.
HUNG_UP = "hung_up"

_menu = CallEvent.data["menu"].as_string()
_key = CallEvent.data["key"].as_string()
_answer = CallEvent.data["answer"].as_string()


@dataclass
class MenuTraffic:
    entered: int = 0  # calls that heard this menu
    answered: int = 0  # ... and got an answer or information from one of its options
    dropped: int = 0  # hung up while in it, without an answer there
    to_agent: int = 0  # asked for an agent here (key 0, a queue option, misses, offers)
    missed: int = 0  # pressed a wrong key, said nothing or nothing it knows, at least once
    chosen: dict[str, int] = field(default_factory=dict)  # option key -> calls that chose it
    given: dict[str, int] = field(default_factory=dict)  # option key -> calls given its words


@dataclass
class Traffic:
    period: Period
    calls: int = 0
    greeting_dropped: int = 0  # hung up before choosing a language
    verifying: int = 0  # chose a language, and so were asked who they are
    verified: int = 0
    failed: int = 0  # failed at least once and ended unverified, not locked
    locked: int = 0  # met the lockout
    verification_dropped: int = 0  # hung up while being verified
    verification_to_agent: int = 0  # to an agent straight from verification or its offer
    to_menus: int = 0  # reached the main menu, verified or not
    menus: dict[str, MenuTraffic] = field(default_factory=dict)
    queued: int = 0  # asked for an agent anywhere
    queues: dict[str, int] = field(default_factory=dict)  # queue -> calls
    after_queue: dict[str, int] = field(default_factory=dict)  # AFTER_QUEUE -> calls

    def menu(self, name: str) -> MenuTraffic:
        return self.menus.get(name) or MenuTraffic()


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def traffic(session: Session, flow: Flow, period: Period) -> Traffic:
    """The calls that began within ``period``, counted where they went; ``flow`` names
    the option each answer belongs to."""
    result = Traffic(period)
    menus = result.menus

    def menu(name: str | None) -> MenuTraffic:
        return menus.setdefault(name or "", MenuTraffic())

    _by_call(session, period, result, menu)
    for name, calls in _entered(session, period):
        menu(name).entered = calls
    for name, calls in _events(session, period, ANSWERED, _menu):
        menu(name).answered = calls
    for name, calls in _events(session, period, ("menu.missed",), _menu):
        menu(name).missed = calls
    for name, key, calls in _events(session, period, ("menu.chosen",), _menu, _key):
        menu(name).chosen[key or ""] = calls
    for name, key, calls in _events(session, period, ("info.given",), _menu, _key):
        menu(name).given[key or ""] = calls
    for name, answer, calls in _events(session, period, ("answer.given",), _menu, _answer):
        key = _answer_key(flow, name, answer)
        if key is not None:
            menu(name).given[key] = calls
    menus.pop("", None)
    return result


def _inbound(period: Period) -> list[ColumnElement[bool]]:
    """Calls to the hotline that began within the period (for a query that has Call)."""
    placed = aliased(CallEvent)
    return [
        Call.started_at >= period.start,
        Call.started_at < period.end,
        ~exists().where(placed.call_id == Call.id, placed.kind == "callback.placed"),
    ]


def _by_call(
    session: Session, period: Period, result: Traffic, menu: Callable[[str], MenuTraffic]
) -> None:
    """The counts that follow from where each call was last and how it ended, grouped in
    SQL by those facts."""
    event = aliased(CallEvent)

    def has(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(event.call_id == Call.id, *conditions)

    facts = (
        select(
            Call.menu.label("menu"),
            Call.queue.label("queue"),
            Call.outcome.label("outcome"),
            Call.verified.label("verified"),
            has(event.kind == "language.chosen").label("chose_language"),
            has(event.kind == "verification.locked").label("locked"),
            has(event.kind == "verification.failed").label("failed"),
            has(event.kind.in_(ANSWERED), event.data["menu"].as_string() == Call.menu).label(
                "answered_there"
            ),
        )
        .where(*_inbound(period))
        .subquery()
    )
    columns = list(facts.c)
    rows: list[Any] = list(session.execute(select(*columns, func.count()).group_by(*columns)))
    queues: Counter[str] = Counter()
    after: Counter[str] = Counter()
    for last, queue, outcome, verified, chose, locked, failed, answered_there, n in rows:
        left = outcome is None or outcome == HUNG_UP
        result.calls += n
        if chose:
            result.verifying += n
        if verified:
            result.verified += n
        elif locked:
            result.locked += n
        elif failed:
            result.failed += n
        if last is not None:
            result.to_menus += n
            counts = menu(last)
            if queue is not None:
                counts.to_agent += n
            elif left and not answered_there:
                counts.dropped += n
        elif queue is not None:
            result.verification_to_agent += n
        elif left:
            if chose:
                result.verification_dropped += n
            else:
                result.greeting_dropped += n
        if queue is not None:
            result.queued += n
            queues[queue] += n
            after[outcome if outcome in AFTER_QUEUE else "other"] += n
    result.queues = dict(queues)
    result.after_queue = {group: after[group] for group in AFTER_QUEUE}


def _events(
    session: Session, period: Period, kinds: Sequence[str], *by: ColumnElement[Any]
) -> list[Any]:
    """Calls with events of ``kinds``, each counted once per group of ``by``."""
    query = (
        select(*by, func.count(distinct(CallEvent.call_id)))
        .join(Call, Call.id == CallEvent.call_id)
        .where(CallEvent.kind.in_(kinds), *_inbound(period))
        .group_by(*by)
    )
    return list(session.execute(query))


def _entered(session: Session, period: Period) -> list[Any]:
    """Calls that were in each menu: any step recorded there, or the menu they were in
    last (a caller may hang up on a menu without doing anything in it)."""
    stepped = (
        select(CallEvent.call_id.label("call"), _menu.label("menu"))
        .join(Call, Call.id == CallEvent.call_id)
        .where(_menu.is_not(None), *_inbound(period))
    )
    last = select(Call.id.label("call"), Call.menu.label("menu")).where(
        Call.menu.is_not(None), *_inbound(period)
    )
    both = union(stepped, last).subquery()
    return list(
        session.execute(
            select(both.c.menu, func.count(distinct(both.c.call))).group_by(both.c.menu)
        )
    )


def _answer_key(flow: Flow, menu: str | None, answer: str | None) -> str | None:
    """The option of ``menu`` that gives ``answer``."""
    options = flow.menus[menu].options if menu in flow.menus else {}
    for key, option in options.items():
        if isinstance(option, AnswerOption) and option.answer == answer:
            return key
    return None
