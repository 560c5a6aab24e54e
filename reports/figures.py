"""A period's figures, per branch, in total and per agent, measured as Amazon Connect
measures a contact centre so that they mean what operators expect. Definitions from
its Administrator Guide, "Metric definitions in Amazon Connect"
(docs.aws.amazon.com/connect/latest/adminguide/metrics-definitions.html) and
"Historical metrics definitions" (…/historical-metrics-definitions.html); README
"Reports" says each in full, and where Hotline's differ.

Counts and sums are taken by the database, grouped by branch; the waits of queued
callers, one number each, come back for the percentile and the distribution. No event
row is read into Python.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import reduce
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from flowfile.flow import Flow
from models import Agent, Call, CallbackAttempt, CallbackRequest, Voicemail
from models.agents import AgentStatus
from models.queueing import CallbackStatus
from queueing.callback_queue import NOT_REACHED, NOT_TRIED
from reports.agent_time import Seconds, occupancy, signed_in, time_in_status
from reports.period import Period
from reports.sql import NO_BRANCH, branch, called_in, count_if, given_an_answer, seconds_between
from reports.sql import talked as talked_sql

# Connect's "contacts abandoned in X seconds": callers who hang up this soon after
# queuing are counted apart, and left out of abandonment and service level.
SHORT_ABANDON_SECONDS = 5
# The wait distribution's buckets, in seconds: [0, 10), [10, 20) … [600, ∞).
WAIT_BUCKETS = (0, 10, 20, 30, 60, 120, 300, 600)
SCORES = (1, 2, 3, 4, 5)
TOTAL = "all"


@dataclass(frozen=True)
class Ratings:
    count: int
    average: float | None
    distribution: dict[int, int]  # score (1-5, 5 best) -> calls rated so


@dataclass(frozen=True)
class Callbacks:
    requested: int  # asked for in the period
    done: int  # of those, the customer reached
    unreachable: int  # of those, closed after CALLBACK_ATTEMPTS misses
    attempts: int  # calls placed to customers in the period
    failed: int  # of those, the customer not reached (no answer, busy, failed, no key)


@dataclass(frozen=True)
class BranchFigures:
    branch: str
    calls: int  # calls in: the branch's volume
    reached_menu: int
    contained: int  # served by self-service alone
    containment: float | None  # contained / reached_menu
    queued: int
    handled: int  # talked to an agent
    answered_within: int  # handled within the service level's threshold
    service_level: float | None  # answered_within / (queued - short_abandoned)
    abandoned: int  # hung up while queued, after SHORT_ABANDON_SECONDS or more
    short_abandoned: int
    abandonment: float | None  # abandoned / (queued - short_abandoned)
    average_wait: float | None  # average speed of answer, seconds
    p90_wait: int | None  # nine in ten handled callers were answered within this
    average_handle: float | None  # talk and wrap-up, seconds
    average_talk: float | None
    voicemails: int
    callbacks: Callbacks
    ratings: Ratings
    outcomes: dict[str, int]  # Call.outcome -> calls in ("open": not ended yet)


@dataclass(frozen=True)
class AgentFigures:
    agent_id: str
    name: str
    calls: int  # callers and called-back customers talked to
    callbacks: int  # of those, customers called back
    talk_seconds: int
    handle_seconds: int  # callers' talk and wrap-up, and called-back customers' talk
    average_handle: float | None  # per caller talked to (callbacks aside)
    signed_in_seconds: int  # not offline: available, busy, in wrap-up or on a break
    break_seconds: int
    occupancy: float | None  # busy and wrap-up over those and available (agent_time)


@dataclass(frozen=True)
class WaitDistribution:
    buckets: tuple[int, ...]  # lower bounds in seconds; the last is open-ended
    handled: list[int]  # callers answered after a wait in each bucket
    abandoned: list[int]  # callers who hung up while waiting (short abandons too)


@dataclass(frozen=True)
class Report:
    period: Period
    service_level_seconds: int
    short_abandon_seconds: int
    open_seconds: int  # when agents answer, by the flow's hours: to set signed-in time against
    branches: list[BranchFigures]
    total: BranchFigures
    agents: list[AgentFigures]
    hourly: dict[str, list[int]]  # branch -> calls in by local hour of day, 0-23
    waits: WaitDistribution


def gather(
    session: Session,
    flow: Flow,
    period: Period,
    service_level_seconds: int,
    *,
    now: datetime,
    wrap_up_seconds: int,
) -> Report:
    """Everything a report shows for ``period``, as it stands ``now``; reads only.
    ``wrap_up_seconds`` (AGENT_WRAP_UP_SECONDS) ends a wrap-up nobody ended."""
    tallies: dict[str, _Tally] = {}

    def tally(name: str) -> _Tally:
        return tallies.setdefault(name, _Tally())

    _count_calls(session, flow, period, tally)
    _collect_waits(session, flow, period, tally)
    _count_ratings(session, flow, period, tally)
    _count_follow_ups(session, period, tally)
    # Every branch of the flow, even a quiet one, so that reports line up; then any
    # the flow no longer has.
    names = [*flow.queues, NO_BRANCH]
    names += sorted(set(tallies) - set(names))
    total = reduce(_Tally.__add__, tallies.values(), _Tally())
    open_seconds = period.open_seconds(flow.hours)
    return Report(
        period=period,
        service_level_seconds=service_level_seconds,
        short_abandon_seconds=SHORT_ABANDON_SECONDS,
        open_seconds=open_seconds,
        branches=[tally(name).figures(name, service_level_seconds) for name in names],
        total=total.figures(TOTAL, service_level_seconds),
        agents=_agents(session, period, time_in_status(session, period, now, wrap_up_seconds)),
        hourly=_hourly(session, flow, period, names),
        waits=WaitDistribution(
            WAIT_BUCKETS,
            _buckets(total.answered_waits),
            _buckets(wait for wait in total.abandoned_waits if wait is not None),
        ),
    )


@dataclass
class _Tally:
    """What the database counted for one branch; added up for the total."""

    calls: int = 0
    reached_menu: int = 0
    contained: int = 0
    queued: int = 0
    handle_sum: int = 0
    handle_count: int = 0
    talk_sum: int = 0
    talk_count: int = 0
    answered_waits: list[int] = field(default_factory=list)
    abandoned_waits: list[int | None] = field(default_factory=list)  # None: end not known
    voicemails: int = 0
    callbacks: Counter[str] = field(default_factory=Counter)
    ratings: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)

    def __add__(self, other: _Tally) -> _Tally:
        added = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(_Tally)}
        return _Tally(**added)

    def figures(self, name: str, threshold: int) -> BranchFigures:
        waits = self.answered_waits
        short = sum(1 for wait in self.abandoned_waits if _short(wait))
        offered = self.queued - short  # callers who waited long enough to count
        within = sum(1 for wait in waits if wait <= threshold)
        rated = sum(self.ratings.values())
        callbacks = self.callbacks
        return BranchFigures(
            branch=name,
            calls=self.calls,
            reached_menu=self.reached_menu,
            contained=self.contained,
            containment=_share(self.contained, self.reached_menu),
            queued=self.queued,
            handled=len(waits),
            answered_within=within,
            service_level=_share(within, offered),
            abandoned=len(self.abandoned_waits) - short,
            short_abandoned=short,
            abandonment=_share(len(self.abandoned_waits) - short, offered),
            average_wait=_share(sum(waits), len(waits)),
            p90_wait=percentile(waits, 90),
            average_handle=_share(self.handle_sum, self.handle_count),
            average_talk=_share(self.talk_sum, self.talk_count),
            voicemails=self.voicemails,
            callbacks=Callbacks(
                requested=sum(callbacks[f"request:{status}"] for status in CallbackStatus),
                done=callbacks[f"request:{CallbackStatus.DONE}"],
                unreachable=callbacks[f"request:{CallbackStatus.UNREACHABLE}"],
                attempts=callbacks["attempt:made"],
                failed=callbacks["attempt:failed"],
            ),
            ratings=Ratings(
                count=rated,
                average=_share(sum(s * n for s, n in self.ratings.items()), rated),
                distribution={score: self.ratings[score] for score in SCORES},
            ),
            outcomes=dict(sorted(self.outcomes.items())),
        )


Tallies = Callable[[str], _Tally]  # a branch's tally, begun on first use


def percentile(values: Sequence[int], pct: int) -> int | None:
    """The nearest-rank percentile: the least value that ``pct`` percent of values do
    not exceed (of 10 waits, the 9th shortest is the 90th percentile)."""
    if not values:
        return None
    return sorted(values)[math.ceil(pct * len(values) / 100) - 1]


def _short(wait: int | None) -> bool:
    return wait is not None and wait < SHORT_ABANDON_SECONDS


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _seconds(value: float | None) -> int | None:
    return None if value is None else max(0, round(value))


def _count_calls(session: Session, flow: Flow, period: Period, tally: Tallies) -> None:
    """Volumes, containment and queue counts, handle and talk sums, by branch and
    outcome: one grouped query."""
    name, talked = branch(flow), talked_sql()
    handled = and_(talked, Call.handled_seconds.is_not(None))
    rows = session.execute(
        select(
            name,
            Call.outcome,
            func.count(),
            count_if(Call.menu.is_not(None)),
            count_if(and_(Call.menu.is_not(None), Call.queue.is_(None), given_an_answer())),
            count_if(Call.queued_at.is_not(None)),
            func.sum(case((handled, Call.handled_seconds), else_=0)),
            count_if(handled),
            func.sum(case((talked, func.coalesce(Call.talk_seconds, 0)), else_=0)),
            count_if(and_(talked, Call.talk_seconds.is_not(None))),
        )
        .where(called_in(), _in(Call.started_at, period))
        .group_by(name, Call.outcome)
    )
    for key, outcome, calls, menu, contained, queued, hsum, hcount, tsum, tcount in rows:
        counts = tally(key)
        counts.calls += calls
        counts.reached_menu += menu
        counts.contained += contained
        counts.queued += queued
        counts.handle_sum += int(hsum)
        counts.handle_count += hcount
        counts.talk_sum += int(tsum)
        counts.talk_count += tcount
        counts.outcomes[outcome or "open"] += calls


def _collect_waits(session: Session, flow: Flow, period: Period, tally: Tallies) -> None:
    """Each queued caller's wait: to the agent's claim for those handled, to the end of
    the call for those who hung up waiting (Call.outcome "abandoned")."""
    talked = talked_sql()
    rows = session.execute(
        select(
            branch(flow),
            talked,
            seconds_between(Call.answered_at, Call.queued_at),
            seconds_between(Call.ended_at, Call.queued_at),
        ).where(
            called_in(),
            _in(Call.started_at, period),
            Call.queued_at.is_not(None),
            talked | (Call.outcome == "abandoned"),
        )
    )
    for key, was_talked, to_answer, to_end in rows:
        if was_talked:
            tally(key).answered_waits.append(_seconds(to_answer) or 0)
        else:
            tally(key).abandoned_waits.append(_seconds(to_end))


def _count_ratings(session: Session, flow: Flow, period: Period, tally: Tallies) -> None:
    """Ratings of every call of the period, called-back customers' too."""
    name = branch(flow)
    rows = session.execute(
        select(name, Call.rating, func.count())
        .where(_in(Call.started_at, period), Call.rating.is_not(None))
        .group_by(name, Call.rating)
    )
    for key, rating, count in rows:
        tally(key).ratings[rating or 0] += count


def _count_follow_ups(session: Session, period: Period, tally: Tallies) -> None:
    """Voicemails and callback requests left in the period, by topic (the queue the
    caller was in, which is the call's branch); callback attempts made in it."""
    for topic, count in session.execute(
        select(Voicemail.topic, func.count())
        .where(_in(Voicemail.created_at, period))
        .group_by(Voicemail.topic)
    ):
        tally(topic).voicemails += count
    for topic, status, count in session.execute(
        select(CallbackRequest.topic, CallbackRequest.status, func.count())
        .where(_in(CallbackRequest.created_at, period))
        .group_by(CallbackRequest.topic, CallbackRequest.status)
    ):
        tally(topic).callbacks[f"request:{status}"] += count
    made = CallbackAttempt.result.is_(None) | CallbackAttempt.result.not_in(NOT_TRIED)
    for topic, attempts, failed in session.execute(
        select(
            CallbackRequest.topic,
            count_if(made),
            count_if(CallbackAttempt.result.in_(NOT_REACHED)),
        )
        .join(CallbackRequest, CallbackRequest.id == CallbackAttempt.callback_id)
        .where(_in(CallbackAttempt.started_at, period))
        .group_by(CallbackRequest.topic)
    ):
        tally(topic).callbacks["attempt:made"] += attempts
        tally(topic).callbacks["attempt:failed"] += failed


def _agents(session: Session, period: Period, time: dict[str, Seconds]) -> list[AgentFigures]:
    """Per agent who talked to anyone or signed in: callers talked to (their talk, and
    their handle time: talk and wrap-up), customers called back who talked (their talk:
    the wrap-up after a callback is not measured), and ``time`` in each status."""
    callers: dict[str, tuple[int, int, int, int]] = {}
    for agent_id, calls, talk, handle, with_handle in session.execute(
        select(
            Call.agent_id,
            func.count(),
            func.sum(func.coalesce(Call.talk_seconds, 0)),
            func.sum(func.coalesce(Call.handled_seconds, 0)),
            func.count(Call.handled_seconds),
        )
        .where(called_in(), _in(Call.started_at, period), talked_sql(), Call.agent_id.is_not(None))
        .group_by(Call.agent_id)
    ):
        callers[str(agent_id)] = (calls, int(talk or 0), int(handle or 0), with_handle)
    called_back: dict[str, tuple[int, int]] = {}
    for agent_id, calls, talk in session.execute(
        select(
            CallbackAttempt.agent_id, func.count(), func.sum(func.coalesce(Call.talk_seconds, 0))
        )
        .join(Call, Call.call_sid == CallbackAttempt.call_sid)
        .where(
            _in(CallbackAttempt.started_at, period),
            CallbackAttempt.result == "talked",
            CallbackAttempt.agent_id.is_not(None),
        )
        .group_by(CallbackAttempt.agent_id)
    ):
        called_back[str(agent_id)] = (calls, int(talk or 0))
    on_duty = {agent_id for agent_id, seconds in time.items() if signed_in(seconds)}
    ids = sorted({*callers, *called_back, *on_duty})
    named = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids)))
    names = {agent_id: name for agent_id, name in named}
    agents = []
    for agent_id in ids:
        calls, talk, handle, with_handle = callers.get(agent_id, (0, 0, 0, 0))
        callbacks, callback_talk = called_back.get(agent_id, (0, 0))
        seconds = time.get(agent_id, Counter())
        agents.append(
            AgentFigures(
                agent_id=agent_id,
                name=names.get(agent_id, agent_id),
                calls=calls + callbacks,
                callbacks=callbacks,
                talk_seconds=talk + callback_talk,
                handle_seconds=handle + callback_talk,
                average_handle=_share(handle, with_handle),
                signed_in_seconds=signed_in(seconds),
                break_seconds=seconds[AgentStatus.BREAK],
                occupancy=occupancy(seconds),
            )
        )
    return agents


def _hourly(session: Session, flow: Flow, period: Period, names: list[str]) -> dict[str, list[int]]:
    """Calls in by the hour of the day they began, in the flow's time zone. Each call's
    start comes back (one value a call: SQLite cannot change time zones)."""
    zone = ZoneInfo(period.zone)
    hours = {name: [0] * 24 for name in names}
    rows = session.execute(
        select(branch(flow), Call.started_at).where(called_in(), _in(Call.started_at, period))
    )
    for key, started in rows:
        hours.setdefault(key, [0] * 24)[started.astimezone(zone).hour] += 1
    return hours


def _buckets(waits: Iterable[int]) -> list[int]:
    counts = [0] * len(WAIT_BUCKETS)
    for wait in waits:
        counts[max(i for i, low in enumerate(WAIT_BUCKETS) if wait >= low)] += 1
    return counts
