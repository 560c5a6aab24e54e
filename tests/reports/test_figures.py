"""A report of a generated history says what working the history out by hand says
(tests/reports/truth.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from reports import compose
from reports.figures import TOTAL, WAIT_BUCKETS, Report, percentile
from reports.period import Period
from tests.reports import truth
from tests.reports.dataset import AGENTS, FIRST, LAST, ZONE, generate, save

THRESHOLD = 20  # SERVICE_LEVEL_SECONDS, as the test settings leave it


def report_of(app: Flask) -> Report:
    with app.app_context():
        return compose.report(Period(FIRST, LAST, str(ZONE)))


def close(expected: Any) -> Any:
    """Averages and shares to within float rounding; whole numbers exactly."""
    if isinstance(expected, dict):
        return {key: close(value) for key, value in expected.items()}
    return pytest.approx(expected) if isinstance(expected, float) else expected


def test_a_report_says_what_the_calls_add_up_to(app: Flask, db: Session) -> None:
    flow = app.extensions["flow"]
    history = generate(flow, seed=20261123)
    save(db, history)
    later = truth.END + timedelta(days=2)  # the period is over, the day after it too
    app.extensions["clock"] = lambda: later

    report = report_of(app)

    expected = truth.branches(history, THRESHOLD)
    measured = {figures.branch: asdict(figures) for figures in [*report.branches, report.total]}
    assert set(expected) <= set(measured)
    for name, figures in measured.items():
        assert figures.pop("branch") == name
        if name in expected:
            assert figures == close(expected[name]), name
        else:  # a quiet branch of the flow: there, and all nothing
            assert figures["calls"] == figures["queued"] == figures["voicemails"] == 0
    assert [f.branch for f in report.branches][: len(flow.queues)] == list(flow.queues)
    # The history has something of every kind: these figures are not vacuous.
    total = expected[TOTAL]
    assert total["short_abandoned"] and total["abandoned"] and total["contained"]
    assert total["callbacks"]["failed"] and 0 < total["service_level"] < 1

    agents = {a.agent_id: asdict(a) for a in report.agents}
    assert {agent_id: a.pop("name") for agent_id, a in agents.items()} == {
        agent_id: AGENTS[agent_id] for agent_id in agents
    }
    for a in agents.values():
        a.pop("agent_id")
    assert agents == close(truth.agents(history, later))
    # Agents were available, busy, in wrap-up and on breaks; one only signed in.
    assert all(0 < a["occupancy"] < 1 and a["break_seconds"] for a in agents.values())
    assert agents["R4"]["calls"] == 0 and agents["R4"]["signed_in_seconds"]
    assert report.open_seconds == truth.OPEN_SECONDS

    hourly = truth.hourly(history)
    assert {name: hours for name, hours in report.hourly.items() if any(hours)} == hourly
    handled, abandoned = truth.wait_buckets(history, WAIT_BUCKETS)
    assert (report.waits.handled, report.waits.abandoned) == (handled, abandoned)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_service_level_follows_its_setting(app: Flask, db: Session) -> None:
    history = generate(app.extensions["flow"], seed=7, per_kind=4)
    save(db, history)
    app.extensions["settings"] = app.extensions["settings"].model_copy(
        update={"service_level_seconds": 700}
    )

    total = report_of(app).total

    # Every wait of the history is under 700 s; not every one is within 20.
    assert total.answered_within == total.handled
    assert total.answered_within > truth.branches(history, 20)[TOTAL]["answered_within"]


def test_percentile_is_the_nearest_rank() -> None:
    assert percentile([], 90) is None
    assert percentile([7], 90) == 7
    assert percentile(list(range(1, 11)), 90) == 9  # nine of ten answered within 9
    assert percentile(list(range(1, 12)), 90) == 10  # 9.9 of 11: ten are needed
    assert percentile([50, 1, 2, 3, 4, 5, 6, 7, 8, 9], 90) == 9
