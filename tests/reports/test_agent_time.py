"""Agents' time in each status, read from a status history whose every second is known:
the status the period begins in, a wrap-up nobody ended, a break, signing out and in,
and a day still under way."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from models import Agent, AgentStatusChange
from models.agents import AgentStatus
from reports import compose
from reports.period import Period
from tests.reports.dataset import FIRST, ZONE
from tests.reports.truth import START

AVAILABLE, BUSY, WRAP_UP = AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.WRAP_UP
BREAK, OFFLINE = AgentStatus.BREAK, AgentStatus.OFFLINE
# Lina's changes, in seconds from the period's start. AGENT_WRAP_UP_SECONDS is 30.
LINAS_DAY = [
    (-3600, AVAILABLE),
    (-10, WRAP_UP),  # 20 s of wrap-up in the period, then available: 80 s
    (100, BUSY),  # 300 s
    (400, WRAP_UP),  # nobody ends it: 30 s of wrap-up, then available: 70 s
    (500, BUSY),  # rung once it ran out: 300 s
    (800, WRAP_UP),  # 10 s
    (810, AVAILABLE),  # 190 s
    (1000, BREAK),  # 600 s
    (1600, AVAILABLE),  # 400 s
    (2000, OFFLINE),  # 1000 s
    (3000, AVAILABLE),  # until now: 600 s
]
NOW = START + timedelta(seconds=3600)


def agent(agent_id: str, n: int) -> Agent:
    return Agent(
        id=agent_id, name=agent_id, phone=f"+8613899000{n:03d}", pin_hash="x", skills=[],
        languages=["zh"],
    )  # fmt: skip


def test_time_in_each_status_and_occupancy_from_a_known_day(app: Flask, db: Session) -> None:
    db.add_all([agent("lina", 1), agent("gang", 2), agent("sarah", 3)])
    db.flush()
    db.add_all(
        AgentStatusChange(agent_id="lina", status=status, at=START + timedelta(seconds=s))
        for s, status in LINAS_DAY
    )
    # Gang signed out before the period and stayed out; Sarah never signed in.
    db.add(AgentStatusChange(agent_id="gang", status=OFFLINE, at=START - timedelta(hours=9)))
    db.commit()
    app.extensions["clock"] = lambda: NOW

    with app.app_context():
        report = compose.report(Period(FIRST, FIRST, str(ZONE)))

    [lina] = report.agents  # nobody else was signed in or talked to anyone
    assert (lina.agent_id, lina.calls) == ("lina", 0)
    on_calls, available = 20 + 300 + 30 + 300 + 10, 80 + 70 + 190 + 400 + 600
    assert lina.break_seconds == 600
    assert lina.signed_in_seconds == on_calls + available + 600 == 3600 - 1000
    assert lina.occupancy == on_calls / (on_calls + available) == 0.33
