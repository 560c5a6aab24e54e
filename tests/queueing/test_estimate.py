"""What a queued caller is told, as plain functions: the expected wait from the callers
ahead and the agents' handling times, a promise never stretched, a position never raised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queueing.estimate import (
    announced_ahead,
    expected_seconds,
    hold_loops,
    minutes_to_say,
    promise,
    smoothed,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
seconds = st.floats(min_value=0, max_value=7200, allow_nan=False)


def test_smoothing_weighs_each_new_value_a_quarter() -> None:
    assert smoothed([]) is None
    assert smoothed([120]) == 120
    assert smoothed([120, 240]) == 150  # (3·120 + 240) / 4
    assert smoothed([120, 240, 30]) == (3 * 150 + 30) / 4


@given(st.lists(seconds, min_size=1, max_size=30))
def test_the_smoothed_value_lies_within_what_was_seen(values: list[float]) -> None:
    average = smoothed(values)
    assert average is not None
    assert min(values) - 1e-6 <= average <= max(values) + 1e-6


def test_the_wait_comes_from_the_callers_ahead_and_the_agents_pace() -> None:
    # Two callers ahead, four minutes a caller, two agents: three callers in two lines.
    assert expected_seconds(2, 2, 240.0, None, 0) == 360
    assert expected_seconds(0, 1, 300.0, 60.0, 30) == 300  # handling times come first
    assert expected_seconds(0, 1, None, 300.0, 120) == 180  # else the queue's recent waits
    assert expected_seconds(0, 1, None, 300.0, 400) == 0
    assert expected_seconds(3, 0, 240.0, 300.0, 0) is None  # nobody on to take them
    assert expected_seconds(3, 2, None, None, 0) is None  # nothing known: say nothing


@given(st.integers(0, 50), st.integers(1, 20), st.floats(1, 3600))
def test_more_callers_ahead_never_means_a_shorter_wait(
    ahead: int, agents: int, handling: float
) -> None:
    fewer = expected_seconds(ahead, agents, handling, None, 0)
    more = expected_seconds(ahead + 1, agents, handling, None, 0)
    assert fewer is not None and more is not None and more > fewer
    wider = expected_seconds(ahead, agents + 1, handling, None, 0)
    assert wider is not None and wider < fewer


@pytest.mark.parametrize(
    ("seconds_left", "minutes"), [(1, 1), (60, 1), (61, 2), (150, 3), (3600, 60)]
)
def test_minutes_round_up_and_never_reach_zero(seconds_left: float, minutes: int) -> None:
    assert minutes_to_say(seconds_left) == minutes


def test_a_promise_is_kept_then_no_more_is_promised() -> None:
    first = promise(300, None, NOW)
    assert (first.minutes, first.overdue, first.expected_by) == (
        5,
        False,
        NOW + timedelta(minutes=5),
    )
    # A minute on, a longer estimate (an urgent caller came) does not stretch the promise.
    later = promise(600, first.expected_by, NOW + timedelta(minutes=1))
    assert later.minutes == 4 and later.expected_by == first.expected_by
    # A shorter one shortens it.
    sooner = promise(60, first.expected_by, NOW + timedelta(minutes=1))
    assert sooner.minutes == 1 and sooner.expected_by == NOW + timedelta(minutes=2)
    # Past the time promised: no number, whatever the estimate says now.
    past = promise(120, first.expected_by, NOW + timedelta(minutes=5))
    assert (past.minutes, past.overdue) == (None, True)
    assert promise(None, None, NOW) == promise(None, None, NOW + timedelta(hours=1))
    assert promise(None, None, NOW).minutes is None


@given(
    st.lists(st.tuples(st.integers(0, 600), st.floats(0, 3600)), min_size=1, max_size=20),
)
def test_the_time_promised_never_moves_later(turns: list[tuple[int, float]]) -> None:
    now, promised = NOW, None
    for step, estimate in turns:
        now += timedelta(seconds=step)
        told = promise(estimate, promised, now)
        if promised is not None:
            assert told.expected_by is not None and told.expected_by <= promised
        assert told.overdue or told.minutes is None or told.minutes >= 1
        promised = told.expected_by


@given(st.lists(st.integers(0, 100), min_size=1, max_size=30))
def test_the_number_ahead_said_never_rises(counts: list[int]) -> None:
    said: int | None = None
    for count in counts:
        new = announced_ahead(count, said)
        assert new <= count and (said is None or new <= said)
        said = new


@given(st.integers(5, 600), st.integers(15, 600))
def test_hold_music_fills_the_time_between_announcements(track: int, every: int) -> None:
    plays, pause = hold_loops(track, every)
    assert plays >= 1 and pause >= 0
    assert plays * track + pause == max(every, track)
