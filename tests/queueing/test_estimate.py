"""The expected wait a queued caller is told, as plain functions."""

from __future__ import annotations

import pytest

from queueing.estimate import expected_minutes, typical_wait


def test_expected_wait() -> None:
    assert typical_wait([60, 180], 999) == 120  # our history first
    assert typical_wait([], 300) == 300
    assert typical_wait([], 0) is None
    assert expected_minutes(120, 0) == 2
    assert expected_minutes(120, 119) == 1
    assert expected_minutes(120, 500) == 1  # waited longer than usual: still "about a minute"
    assert expected_minutes(None, 30) is None


def test_nothing_is_said_before_anything_is_known() -> None:
    assert typical_wait([], None) is None
    assert expected_minutes(typical_wait([], None), 0) is None
    assert expected_minutes(0.0, 0) is None  # never "about 0 minutes"


@pytest.mark.parametrize(
    ("typical", "waited", "minutes"),
    [
        (60, 0, 1),
        (61, 0, 2),  # a second over a minute is heard as two: callers are not promised less
        (150, 30, 2),
        (150, 29, 3),
        (600, 600, 1),  # exactly the usual wait: still a minute, never zero
    ],
)
def test_minutes_left_round_up_and_never_reach_zero(
    typical: float, waited: int, minutes: int
) -> None:
    assert expected_minutes(typical, waited) == minutes


def test_our_own_history_outweighs_twilios_average_even_when_shorter() -> None:
    assert typical_wait([30], 900) == 30
    assert typical_wait([30, 45, 90], None) == 55
