"""Business hours and the wait estimate, as plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from flowfile.queues import Hours
from queueing.estimate import expected_minutes, typical_wait
from queueing.hours import is_open

HOURS = Hours(
    weekly={"mon": ["08:00-12:00", "13:00-22:00"], "sat": ["09:00-18:00"]},
    holidays=[date(2026, 11, 30)],
)


@pytest.mark.parametrize(
    ("utc", "open_"),
    [
        (datetime(2026, 11, 23, 0, 0), True),  # Monday 08:00 in Shanghai
        (datetime(2026, 11, 22, 23, 59), False),  # Monday 07:59
        (datetime(2026, 11, 23, 4, 30), False),  # Monday 12:30: lunch
        (datetime(2026, 11, 23, 13, 59), True),  # Monday 21:59
        (datetime(2026, 11, 23, 14, 0), False),  # Monday 22:00
        (datetime(2026, 11, 24, 3, 0), False),  # Tuesday: not listed, closed
        (datetime(2026, 11, 28, 2, 0), True),  # Saturday 10:00
        (datetime(2026, 11, 30, 3, 0), False),  # a Monday, but a holiday
    ],
)
def test_opening_hours_in_the_flows_time_zone(utc: datetime, open_: bool) -> None:
    assert is_open(HOURS, "Asia/Shanghai", utc.replace(tzinfo=UTC)) is open_


def test_expected_wait() -> None:
    assert typical_wait([60, 180], 999) == 120  # our history first
    assert typical_wait([], 300) == 300
    assert typical_wait([], 0) is None
    assert expected_minutes(120, 0) == 2
    assert expected_minutes(120, 119) == 1
    assert expected_minutes(120, 500) == 1  # waited longer than usual: still "about a minute"
    assert expected_minutes(None, 30) is None
