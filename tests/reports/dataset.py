"""A generated hotline history: calls of every kind over several days, branches and
outcomes, with their events, callbacks (and the calls placed for them), voicemails and
agents; saved as Hotline saves them, and kept as plain records the tests measure by
hand, so that a report can be checked against figures it did not compute.

Each kind of call is what Hotline records for it (see callflows.journey,
queueing.waiting, queueing.conference, queueing.callbacks).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from flowfile.flow import Flow
from models import (
    Agent,
    AgentStatusChange,
    Call,
    CallbackAttempt,
    CallbackRequest,
    CallEvent,
    Voicemail,
)
from models.agents import AgentStatus
from models.calls import CallStage
from models.queueing import CallbackStatus, FollowUpStatus

ZONE = ZoneInfo("Asia/Shanghai")
FIRST, LAST = date(2026, 11, 23), date(2026, 11, 25)  # the period the tests report on
AGENTS = {"R1": "李娜", "R2": "Emily Chen", "R3": "王强", "R4": "张伟"}
ON_CALLS = ("R1", "R2", "R3")  # R4 signs in, has breaks, and talks to nobody
# How long a status lasts, in seconds: some beside AGENT_WRAP_UP_SECONDS (30), so that
# wrap-ups end before, at and after it; 0, two changes at one moment.
SPELLS = (0, 10, 29, 30, 31, 45, 120, 600, 1800, 3600, 4 * 3600)
# Waits chosen to sit on and beside the thresholds (5 s short abandon, 20 s service level).
WAITS = (0, 3, 4, 5, 6, 12, 19, 20, 21, 35, 59, 60, 130, 301, 650)
KINDS = (
    "no_menu",
    "browsed",
    "contained",
    "handled",
    "abandoned",
    "abandoned_in_room",
    "voicemail",
    "callback",
    "left_queue",
    "waiting",
)


@dataclass
class Story:
    """One call in, as the generator made it: what the tests count from."""

    sid: str
    kind: str
    started: datetime
    branch: str
    menu: str | None = None
    queue: str | None = None
    outcome: str | None = None
    wait: int | None = None  # seconds queued until answered, or until hanging up
    talk: int | None = None
    handle: int | None = None
    agent: str | None = None
    rating: int | None = None
    answered: bool = False  # an answer.given / info.given event
    queued: bool = False


@dataclass
class Attempt:
    agent: str
    started: datetime
    result: str
    sid: str | None  # the customer's call; None when it was never placed
    talk: int | None = None
    rating: int | None = None


@dataclass
class Callback:
    sid: str  # the call that asked for it
    topic: str
    created: datetime
    status: CallbackStatus
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class History:
    stories: list[Story] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    voicemails: list[tuple[str, str, datetime]] = field(default_factory=list)  # sid, topic, at
    # Agents' status changes (agent, status, at), in the order Hotline wrote them.
    statuses: list[tuple[str, AgentStatus, datetime]] = field(default_factory=list)


def generate(flow: Flow, seed: int, per_kind: int = 12) -> History:
    """``per_kind`` calls of each kind in the period, and a few just outside it."""
    rng = random.Random(seed)
    sids = count(1)
    history = History()
    menus = sorted(flow.menus)
    queues = sorted(flow.queues)
    days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    outside = [FIRST - timedelta(days=1), LAST + timedelta(days=1)]

    def moment(day: date) -> datetime:
        local = datetime(
            day.year,
            day.month,
            day.day,
            rng.randrange(24),
            rng.randrange(60),
            rng.randrange(60),
            tzinfo=ZONE,
        )
        return local.astimezone(UTC)

    for kind in KINDS:
        for n in range(per_kind + 2):
            day = rng.choice(days) if n < per_kind else outside[n - per_kind]
            history.stories.append(
                _story(rng, flow, kind, f"CA{next(sids):032x}", moment(day), menus, queues)
            )
    for story in history.stories:
        if story.kind == "voicemail":
            history.voicemails.append(
                (story.sid, story.branch, story.started + timedelta(seconds=90))
            )
        if story.kind == "callback":
            history.callbacks.append(_callback(rng, story, sids))
    for agent_id in AGENTS:
        history.statuses += _statuses(rng, agent_id, outside)
    return history


def _statuses(
    rng: random.Random, agent_id: str, outside: list[date]
) -> list[tuple[str, AgentStatus, datetime]]:
    """An agent's day after day of changes, from the day before the period to the day
    after it: the period begins and ends in the middle of some status."""
    at = datetime(outside[0].year, outside[0].month, outside[0].day, 8, tzinfo=ZONE)
    last = datetime(outside[1].year, outside[1].month, outside[1].day, 20, tzinfo=ZONE)
    changes = []
    while at < last:
        status = rng.choice(list(AgentStatus))
        changes.append((agent_id, status, at.astimezone(UTC)))
        at += timedelta(seconds=rng.choice(SPELLS))
    return changes


def _story(
    rng: random.Random,
    flow: Flow,
    kind: str,
    sid: str,
    started: datetime,
    menus: list[str],
    queues: list[str],
) -> Story:
    if kind == "no_menu":
        return Story(sid, kind, started, "none", outcome=rng.choice(["hung_up", None]))
    menu = rng.choice(menus)
    if kind in ("browsed", "contained"):
        # A menu the flow has since lost counts under the general queue.
        gone = rng.random() < 0.15
        branch = "general" if gone else flow.menu_queue(menu)
        story = Story(sid, kind, started, branch, menu="retired_menu" if gone else menu)
        story.outcome = rng.choice(["hung_up", "self_served"]) if kind == "contained" else "hung_up"
        story.answered = kind == "contained"
        return story
    queue = rng.choice(queues)
    story = Story(sid, kind, started, queue, menu=rng.choice([menu, None]), queue=queue)
    story.answered = rng.random() < 0.3  # an answer before asking for an agent: not contained
    # Voicemails and callbacks asked for outside hours never queued.
    story.queued = kind not in ("voicemail", "callback") or rng.random() < 0.6
    story.outcome = {
        "handled": "agent",
        "abandoned": "abandoned",
        "abandoned_in_room": "abandoned",
        "voicemail": "voicemail",
        "callback": "callback",
        "left_queue": "left_queue",
        "waiting": None,
    }[kind]
    if kind in ("handled", "abandoned", "abandoned_in_room"):
        story.wait = rng.choice(WAITS)
    if kind == "handled":
        story.agent = rng.choice(ON_CALLS)
        story.talk = rng.randrange(20, 900)
        # The handle time is known once the agent is free again (routing.agent_free).
        story.handle = story.talk + rng.randrange(0, 30) if rng.random() < 0.85 else None
        story.rating = rng.choice([None, 1, 2, 3, 4, 5, 5])
    return story


def _callback(rng: random.Random, story: Story, sids: count[int]) -> Callback:
    callback = Callback(
        story.sid,
        story.branch,
        story.started + timedelta(seconds=100),
        rng.choice([CallbackStatus.OPEN, CallbackStatus.DONE, CallbackStatus.UNREACHABLE]),
    )
    at = callback.created
    results = {
        CallbackStatus.OPEN: ["agent_left", "not_placed", "busy"],
        CallbackStatus.DONE: ["no-answer", rng.choice(["talked", "talked", "answered"])],
        CallbackStatus.UNREACHABLE: ["no-answer", "busy", "no_key"],
    }[callback.status]
    for result in results:
        at += timedelta(minutes=10)
        placed = None if result == "not_placed" else f"CA{next(sids):032x}"
        attempt = Attempt(rng.choice(ON_CALLS), at, result, placed)
        if result == "talked":
            attempt.talk = rng.randrange(30, 600)
            attempt.rating = rng.choice([None, 4, 5])
        callback.attempts.append(attempt)
    return callback


def save(session: Session, history: History) -> None:
    """Write the history as Hotline's tables hold it."""
    session.add_all(
        Agent(
            id=agent_id,
            name=name,
            phone=f"+86138990000{n:02d}",
            pin_hash="x",
            skills=[],
            languages=["zh"],
        )
        for n, (agent_id, name) in enumerate(AGENTS.items())
    )
    session.flush()
    session.add_all(
        AgentStatusChange(agent_id=agent_id, status=status, at=at)
        for agent_id, status, at in history.statuses
    )
    calls = {story.sid: _call(story) for story in history.stories}
    session.add_all(calls.values())
    session.flush()
    session.add_all(
        event for story in history.stories for event in _events(story, calls[story.sid])
    )
    for sid, topic, left in history.voicemails:
        session.add(
            Voicemail(
                call_id=calls[sid].id,
                language="zh",
                topic=topic,
                recording_url="https://x/r",
                status=FollowUpStatus.OPEN,
                created_at=left,
            )
        )
    for callback in history.callbacks:
        request = CallbackRequest(
            call_id=calls[callback.sid].id,
            number="+8613800138000",
            language="zh",
            topic=callback.topic,
            status=callback.status,
            created_at=callback.created,
            attempts=0,
        )
        session.add(request)
        session.flush()
        for attempt in callback.attempts:
            if attempt.sid is not None:
                session.add(_called_back(callback, attempt))
            session.add(
                CallbackAttempt(
                    callback_id=request.id,
                    agent_id=attempt.agent,
                    call_sid=attempt.sid,
                    started_at=attempt.started,
                    result=attempt.result,
                    ended_at=attempt.started + timedelta(minutes=2),
                )
            )
            session.flush()
    session.commit()


def _call(story: Story) -> Call:
    call = Call.begun(story.sid, story.started, CallStage.ENDED)
    call.caller = "+8613800138000"
    call.menu, call.queue, call.outcome = story.menu, story.queue, story.outcome
    call.ended_at = story.started + timedelta(minutes=5)
    if not story.queued:
        return call
    queued = story.started + timedelta(seconds=40)
    call.queued_at = queued
    if story.kind == "handled" and story.wait is not None:
        call.answered_at = queued + timedelta(seconds=story.wait)
        call.caller_joined_at = call.agent_joined_at = call.answered_at + timedelta(seconds=3)
        call.agent_id, call.talk_seconds, call.handled_seconds = (
            story.agent,
            story.talk,
            story.handle,
        )
        call.rating = story.rating
    elif story.kind in ("abandoned", "abandoned_in_room") and story.wait is not None:
        call.ended_at = queued + timedelta(seconds=story.wait)
        if story.kind == "abandoned_in_room":  # claimed, but gone before the agent came
            call.answered_at = call.ended_at - timedelta(seconds=min(story.wait, 2))
            call.caller_joined_at = call.answered_at
    elif story.kind == "waiting":
        call.stage, call.ended_at = CallStage.QUEUED, None
    return call


def _events(story: Story, call: Call) -> list[CallEvent]:
    kinds = ["language.chosen"]
    if story.menu is not None:
        kinds += ["menu.chosen", "answer.refused"]  # neither gave the caller an answer
    if story.answered:
        kinds.append(random.Random(story.sid).choice(["answer.given", "info.given"]))
    return [CallEvent(call_id=call.id, at=story.started, kind=kind, data={}) for kind in kinds]


def _called_back(callback: Callback, attempt: Attempt) -> Call:
    """The customer's call Hotline placed (queueing.callbacks._customer_call)."""
    call = Call.begun(attempt.sid or "", attempt.started, CallStage.ENDED)
    call.caller, call.queue, call.outcome = "+8613800138000", callback.topic, "callback"
    call.agent_id = attempt.agent
    if attempt.talk is not None:
        call.caller_joined_at = call.agent_joined_at = attempt.started + timedelta(seconds=20)
        call.talk_seconds, call.rating = attempt.talk, attempt.rating
    return call
