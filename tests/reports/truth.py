"""A generated history's figures worked out by hand, one record at a time, straight from
the definitions (README, Reports): what a report of it must say."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.reports.dataset import FIRST, LAST, ZONE, History

START = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=ZONE).astimezone(UTC)
_after = LAST + timedelta(days=1)
END = datetime(_after.year, _after.month, _after.day, tzinfo=ZONE).astimezone(UTC)
# Monday 23 to Wednesday 25 November 2026: 08:00-22:00 each day in the default flow.
OPEN_SECONDS = 3 * 14 * 3600
FAILED = {"no-answer", "busy", "failed", "canceled", "no_key"}
NOT_TRIED = {"agent_left", "not_placed"}


def within(moment: datetime) -> bool:
    return START <= moment < END


def nine_in_ten(waits: list[int]) -> int | None:
    """The least wait that at least 90% of the waits do not exceed."""
    for candidate in sorted(set(waits)):
        if sum(1 for wait in waits if wait <= candidate) >= 0.9 * len(waits):
            return candidate
    return None


def mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def branches(history: History, threshold: int) -> dict[str, dict[str, Any]]:
    """Per branch and for "all": the figures a report's branches must have."""
    seen: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"waits": [], "abandoned": [], "handles": [], "talks": [],
                 "ratings": Counter(), "outcomes": Counter(), "n": Counter()}
    )  # fmt: skip

    def both(branch: str) -> list[dict[str, Any]]:
        return [seen[branch], seen["all"]]

    for story in history.stories:
        if not within(story.started):
            continue
        for b in both(story.branch):
            b["n"]["calls"] += 1
            b["n"]["reached_menu"] += story.menu is not None
            b["n"]["contained"] += story.menu is not None and story.queue is None and story.answered
            b["n"]["queued"] += story.queued
            b["outcomes"][story.outcome or "open"] += 1
            if story.kind == "handled":
                b["waits"].append(story.wait)
                b["talks"].append(story.talk)
                if story.handle is not None:
                    b["handles"].append(story.handle)
            if story.kind in ("abandoned", "abandoned_in_room"):
                b["abandoned"].append(story.wait)
            if story.rating is not None:
                b["ratings"][story.rating] += 1
    for _sid, topic, left in history.voicemails:
        if within(left):
            for b in both(topic):
                b["n"]["voicemails"] += 1
    for callback in history.callbacks:
        if within(callback.created):
            for b in both(callback.topic):
                b["n"]["requested"] += 1
                b["n"]["done"] += callback.status == "done"
                b["n"]["unreachable"] += callback.status == "unreachable"
        for attempt in callback.attempts:
            if not within(attempt.started):
                continue
            for b in both(callback.topic):
                b["n"]["attempts"] += attempt.result not in NOT_TRIED
                b["n"]["failed"] += attempt.result in FAILED
                if attempt.rating is not None:
                    b["ratings"][attempt.rating] += 1
    return {name: _figures(b, threshold) for name, b in seen.items()}


def _figures(b: dict[str, Any], threshold: int) -> dict[str, Any]:
    n, waits = b["n"], b["waits"]
    short = [wait for wait in b["abandoned"] if wait < 5]
    long = [wait for wait in b["abandoned"] if wait >= 5]
    counted = n["queued"] - len(short)
    answered_within = [wait for wait in waits if wait <= threshold]
    rated = sum(b["ratings"].values())
    return {
        "calls": n["calls"],
        "reached_menu": n["reached_menu"],
        "contained": n["contained"],
        "containment": ratio(n["contained"], n["reached_menu"]),
        "queued": n["queued"],
        "handled": len(waits),
        "answered_within": len(answered_within),
        "service_level": ratio(len(answered_within), counted),
        "abandoned": len(long),
        "short_abandoned": len(short),
        "abandonment": ratio(len(long), counted),
        "average_wait": mean(waits),
        "p90_wait": nine_in_ten(waits),
        "average_handle": mean(b["handles"]),
        "average_talk": mean(b["talks"]),
        "voicemails": n["voicemails"],
        "callbacks": {
            "requested": n["requested"],
            "done": n["done"],
            "unreachable": n["unreachable"],
            "attempts": n["attempts"],
            "failed": n["failed"],
        },
        "ratings": {
            "count": rated,
            "average": ratio(sum(s * k for s, k in b["ratings"].items()), rated),
            "distribution": {score: b["ratings"][score] for score in range(1, 6)},
        },
        "outcomes": dict(b["outcomes"]),
    }


def time_in_status(history: History, stop: datetime, wrap_up: int) -> dict[str, Counter[str]]:
    """Each agent's seconds in each status within [START, stop), walking their changes one
    after another: a status lasts until the next change (the last, until ``stop``); a
    wrap-up longer than ``wrap_up`` seconds is available time after that."""
    changes: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for agent_id, status, at in history.statuses:  # in the order they were written
        changes[agent_id].append((at, status))
    spent: dict[str, Counter[str]] = defaultdict(Counter)
    for agent_id, agent_changes in changes.items():
        ordered = sorted(agent_changes, key=lambda change: change[0])  # stable: ties keep order
        ends = [at for at, _status in ordered[1:]] + [stop]
        for (began, status), ended in zip(ordered, ends, strict=True):
            spells = [(status, began, ended)]
            if status == "wrap_up":
                ran_out = min(ended, began + timedelta(seconds=wrap_up))
                spells = [("wrap_up", began, ran_out), ("available", ran_out, ended)]
            for name, a, b in spells:
                overlap = (min(b, stop) - max(a, START)).total_seconds()
                if overlap > 0:
                    spent[agent_id][name] += round(overlap)
    return spent


def agents(history: History, now: datetime, wrap_up: int = 30) -> dict[str, dict[str, Any]]:
    """Per agent: calls from the stories and callbacks, time from the status history
    (the period ends ``now`` if it has not yet); AGENT_WRAP_UP_SECONDS is 30."""
    time = time_in_status(history, min(now, END), wrap_up)
    on_duty = {agent_id for agent_id, spent in time.items() if _time(spent)["signed_in_seconds"]}
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for story in history.stories:
        if story.kind == "handled" and within(story.started) and story.agent:
            agent = seen[story.agent]
            agent["calls"] += 1
            agent["talk"] += story.talk or 0
            if story.handle is not None:
                agent["handle"] += story.handle
                agent["with_handle"] += 1
    for callback in history.callbacks:
        for attempt in callback.attempts:
            if attempt.result == "talked" and within(attempt.started):
                agent = seen[attempt.agent]
                agent["calls"] += 1
                agent["callbacks"] += 1
                agent["talk"] += attempt.talk or 0
                agent["callback_talk"] += attempt.talk or 0
    return {
        agent_id: {**_calls(seen[agent_id]), **_time(time[agent_id])}
        for agent_id in {*seen, *on_duty}
    }


def _calls(a: Counter[str]) -> dict[str, Any]:
    return {
        "calls": a["calls"],
        "callbacks": a["callbacks"],
        "talk_seconds": a["talk"],
        "handle_seconds": a["handle"] + a["callback_talk"],
        "average_handle": ratio(a["handle"], a["with_handle"]),
    }


def _time(spent: Counter[str]) -> dict[str, Any]:
    on_calls = spent["busy"] + spent["wrap_up"]
    return {
        "signed_in_seconds": spent["available"] + on_calls + spent["break"],
        "break_seconds": spent["break"],
        "occupancy": ratio(on_calls, on_calls + spent["available"]),
    }


def hourly(history: History) -> dict[str, list[int]]:
    hours: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    for story in history.stories:
        if within(story.started):
            hours[story.branch][story.started.astimezone(ZONE).hour] += 1
    return dict(hours)


def wait_buckets(history: History, bounds: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """Handled and abandoned callers per bucket [bounds[i], bounds[i+1])."""
    handled, abandoned = [0] * len(bounds), [0] * len(bounds)
    for story in history.stories:
        if story.wait is None or not within(story.started):
            continue
        counts = handled if story.kind == "handled" else abandoned
        for i, low in enumerate(bounds):
            high = bounds[i + 1] if i + 1 < len(bounds) else None
            if low <= story.wait and (high is None or story.wait < high):
                counts[i] += 1
    return handled, abandoned
