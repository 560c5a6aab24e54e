"""Where callers went in the flow (reports.traffic): counted from calls played through the
phone simulator, and from generated calls whose way through the flow the test knows."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from flowfile.flow import Flow
from flowfile.menus import AnswerOption, MenuOption, SayOption
from models import Call, CallEvent
from models.calls import CallStage
from reports.period import Period
from reports.traffic import AFTER_QUEUE, MenuTraffic, Traffic, traffic
from tests.conftest import OPEN_HOURS
from tests.demo import customer
from tests.flowfile.flows import shipped_flow

WANG = customer(language="zh")
EMILY = customer(language="en")
STRANGER = "+8613012345678"
FLOW = shipped_flow()


def today(flow: Flow) -> Period:
    """The local day of the tests' clock."""
    day = OPEN_HOURS.astimezone(ZoneInfo(flow.timezone)).date()
    return Period(day, day, flow.timezone)


@pytest.mark.usefixtures("demo")
def test_calls_played_through_the_simulator_are_counted_where_they_went(phone, db: Session) -> None:
    phone(WANG["phone"]).dial().hang_up()  # at the greeting
    # Verified, to the funds menu, the latest top-up (an answer), then gone.
    phone(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"]).press("2").press(
        "3"
    ).hang_up()
    # Verified, into the account menu, and gone without choosing.
    phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("1").hang_up()
    # Verified, an agent from the main menu, and gone while waiting.
    phone(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"]).press("0").hang_up()
    # A stranger asks for an agent instead of keying a number.
    phone(STRANGER).dial().press("1").press("0").hang_up()
    # Three wrong PINs, the menus anyway (1 at the offer), gone at the main menu.
    wrong = phone(WANG["phone"]).dial().press("1")
    for _ in range(3):
        wrong.press("#").press("000000")
    wrong.press("1").hang_up()

    found = traffic(db, FLOW, today(FLOW))

    assert (found.calls, found.greeting_dropped, found.verifying) == (6, 1, 5)
    assert (found.verified, found.failed, found.locked) == (3, 1, 0)
    assert (found.verification_to_agent, found.verification_dropped, found.to_menus) == (1, 0, 4)
    main, funds, account = found.menu("main"), found.menu("funds"), found.menu("account")
    assert (main.entered, main.answered, main.dropped, main.to_agent) == (4, 0, 1, 1)
    assert main.chosen == {"2": 1, "1": 1, "0": 1}
    assert (funds.entered, funds.answered, funds.dropped, funds.given) == (1, 1, 0, {"3": 1})
    assert (account.entered, account.answered, account.dropped) == (1, 0, 1)
    assert found.menu("guides").entered == 0
    assert found.queued == 2 and found.after_queue["abandoned"] == 2
    assert found.queues == {"general": 2}


# --- generated calls: each walks the flow as the test says, and leaves the rows and events
# the journey records for such a walk; the counts are then worked out from the walks.

LEFT = (None, "hung_up")
OTHER = ("left_queue", "hung_up", None)  # after a queue: neither served nor abandoned
AFTER = ("agent", "abandoned", "voicemail", "callback", "overflow", *OTHER)
days = itertools.count()


@dataclass
class Walk:
    at: datetime
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    chose_language: bool = False
    verified: bool = False
    failed: bool = False
    locked: bool = False
    menu: str | None = None  # where the caller was last
    visited: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    missed: set[str] = field(default_factory=set)
    chosen: set[tuple[str, str]] = field(default_factory=set)
    given: set[tuple[str, str]] = field(default_factory=set)
    queue: str | None = None
    outcome: str | None = None

    def step(self, kind: str, **data: Any) -> None:
        self.events.append((kind, data))


@st.composite
def walks(draw: st.DrawFn, day: date) -> Walk:
    start = datetime.combine(day, time(), ZoneInfo(FLOW.timezone)).astimezone(UTC)
    walk = Walk(start + timedelta(seconds=draw(st.integers(0, 24 * 3600 - 1))))
    ending = draw(st.sampled_from(["greeting", "verification", "menus", "menus", "menus"]))
    if ending == "greeting":
        walk.outcome = draw(st.sampled_from(LEFT))
        return walk
    walk.chose_language = True
    walk.step("language.chosen", language="zh", pressed=True)
    failures = draw(st.integers(0, 3))
    for attempt in range(1, failures + 1):
        walk.step("verification.failed", attempt=attempt)
    walk.failed = failures > 0
    walk.locked = draw(st.booleans()) if failures else False
    if walk.locked:
        walk.step("verification.locked")
    walk.verified = not walk.locked and draw(st.booleans())
    if walk.verified:
        walk.step("verification.verified", method="pin", via="caller_id")
    if ending == "verification":
        if draw(st.booleans()):
            walk.step("verification.agent_asked", stage="number")
            _to_agent(draw, walk, "general")
        else:
            walk.outcome = draw(st.sampled_from(LEFT))
        return walk
    _menus(draw, walk)
    return walk


def _menus(draw: st.DrawFn, walk: Walk) -> None:
    """Keys, misses and backs from the main menu; then the caller hangs up, is still on
    the line, is thanked after silence, or goes to an agent."""
    menu = walk.menu = "main"
    walk.visited.add(menu)
    for _ in range(draw(st.integers(0, 6))):
        options = FLOW.menus[menu].options
        move = draw(st.sampled_from(["option", "option", "miss", "back"]))
        if move == "miss":
            walk.step("menu.missed", menu=menu, key="7", speech=None, misses=1)
            walk.missed.add(menu)
            continue
        if move == "back":
            parent = FLOW.parent(menu)
            if parent is not None:
                walk.step("menu.chosen", menu=menu, key="*")
                walk.chosen.add((menu, "*"))
                menu = walk.menu = parent
                walk.visited.add(menu)
            continue
        key = draw(st.sampled_from(sorted(options)))
        option = options[key]
        walk.step("menu.chosen", menu=menu, key=key)
        walk.chosen.add((menu, key))
        if isinstance(option, MenuOption):
            if option.menu == "stolen" and not walk.verified:
                return _to_agent(draw, walk, "urgent")  # stolen's unverified queue
            menu = walk.menu = option.menu
            walk.visited.add(menu)
        elif isinstance(option, SayOption):
            walk.step("info.given", menu=menu, key=key)
            walk.answered.add(menu)
            walk.given.add((menu, key))
        elif isinstance(option, AnswerOption) and walk.verified:
            walk.step("answer.given", menu=menu, answer=option.answer)
            walk.answered.add(menu)
            walk.given.add((menu, key))
            if option.then == "queue" and option.queue:
                return _to_agent(draw, walk, option.queue)
        elif isinstance(option, AnswerOption):
            walk.step("answer.refused", menu=menu, answer=option.answer, reason="unverified")
    ending = draw(st.sampled_from(["left", "agent", "thanked"]))
    if ending == "agent":
        walk.step("menu.chosen", menu=menu, key="0")
        walk.chosen.add((menu, "0"))
        _to_agent(draw, walk, FLOW.menu_queue(menu))
    elif ending == "thanked":
        walk.step("menu.goodbye", menu=menu)
        walk.outcome = "self_served"
    else:
        walk.outcome = draw(st.sampled_from(LEFT))


def _to_agent(draw: st.DrawFn, walk: Walk, queue: str) -> None:
    walk.queue = queue
    walk.step("queue.entered", queue=queue, menu=walk.menu)
    walk.outcome = draw(st.sampled_from(AFTER))


def save(db: Session, walks: list[Walk]) -> None:
    for walk in walks:
        call = Call.begun(f"CA{uuid.uuid4().hex}", walk.at, CallStage.ENDED)
        call.menu, call.queue, call.outcome = walk.menu, walk.queue, walk.outcome
        call.verified = walk.verified
        call.events = [CallEvent(kind=kind, data=data, at=walk.at) for kind, data in walk.events]
        db.add(call)
    db.commit()


def noise(day: date) -> list[Walk]:
    """Calls that must count nowhere: a second before the day and at the next midnight
    (local time), and a customer Hotline called back during it."""
    zone = ZoneInfo(FLOW.timezone)
    before = datetime.combine(day, time(), zone) - timedelta(seconds=1)
    after = datetime.combine(day + timedelta(days=1), time(), zone)
    called_back = Walk(before + timedelta(hours=12), menu="main", outcome="hung_up")
    called_back.step("callback.placed", callback=1, attempt=1, agent="A01")
    outside = [Walk(at, menu="main", outcome="hung_up") for at in (before, after)]
    for walk in outside:
        walk.step("language.chosen", language="zh", pressed=True)
        walk.step("menu.chosen", menu="main", key="1")
    return [called_back, *outside]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_counts_of_generated_calls_are_where_their_walks_went(
    db: Session, data: st.DataObject
) -> None:
    # Each example has days of its own, so the calls of earlier examples count nowhere.
    day = date(2027, 3, 1) + timedelta(days=3 * next(days))
    walked = data.draw(st.lists(walks(day), min_size=1, max_size=20))
    save(db, walked + noise(day))

    period = Period(day, day, FLOW.timezone)
    assert traffic(db, FLOW, period) == expected(walked, period)


def expected(walked: list[Walk], period: Period) -> Traffic:
    """The counts, worked out from the walks rather than from what was saved."""
    in_verification = [w for w in walked if w.chose_language and w.menu is None]
    queued = [w for w in walked if w.queue is not None]
    menus = {name: expected_menu(walked, name) for name in FLOW.menus}
    return Traffic(
        period,
        calls=len(walked),
        greeting_dropped=sum(not w.chose_language for w in walked),
        verifying=sum(w.chose_language for w in walked),
        verified=sum(w.verified for w in walked),
        failed=sum(w.failed and not w.locked and not w.verified for w in walked),
        locked=sum(w.locked for w in walked),
        verification_dropped=sum(w.queue is None for w in in_verification),
        verification_to_agent=sum(w.queue is not None for w in in_verification),
        to_menus=sum(w.menu is not None for w in walked),
        menus={name: menu for name, menu in menus.items() if menu != MenuTraffic()},
        queued=len(queued),
        queues=dict(Counter(w.queue for w in queued if w.queue)),
        after_queue={
            group: sum(
                w.outcome == group or (group == "other" and w.outcome in OTHER) for w in queued
            )
            for group in AFTER_QUEUE
        },
    )


def expected_menu(walked: list[Walk], name: str) -> MenuTraffic:
    last_here = [w for w in walked if w.menu == name]
    keys = [*FLOW.menus[name].options, FLOW.keys.agent, FLOW.keys.back]
    chosen = {key: sum((name, key) in w.chosen for w in walked) for key in keys}
    given = {key: sum((name, key) in w.given for w in walked) for key in keys}
    return MenuTraffic(
        entered=sum(name in w.visited for w in walked),
        answered=sum(name in w.answered for w in walked),
        dropped=sum(
            w.queue is None and w.outcome in LEFT and name not in w.answered for w in last_here
        ),
        to_agent=sum(w.queue is not None for w in last_here),
        missed=sum(name in w.missed for w in walked),
        chosen={key: calls for key, calls in chosen.items() if calls},
        given={key: calls for key, calls in given.items() if calls},
    )
