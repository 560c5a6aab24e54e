"""A report's days: the flow's local days as UTC bounds, and its open hours."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from flowfile.queues import Hours
from reports.period import Period, PeriodError

SHANGHAI = "Asia/Shanghai"
WEEKDAYS_AND_WEEKENDS = Hours.model_validate(
    {
        "weekly": {
            **{day: ["08:00-22:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat": ["09:00-12:00", "13:00-18:00"],
        },
        "holidays": [date(2027, 1, 1)],
    }
)


def test_local_days_become_utc_bounds() -> None:
    days = Period.parse("2026-12-01", "2026-12-06", SHANGHAI)

    assert days.start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert days.end == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # the 6th is included


@pytest.mark.parametrize(
    ("first", "last", "said"),
    [
        ("2026-12-06", "2026-12-01", "--from 2026-12-06 is after --to 2026-12-01"),
        ("2026-13-01", "2026-12-01", "--from '2026-13-01' is not a date"),
        ("2026-12-01", "yesterday", "--to 'yesterday' is not a date"),
        ("2025-01-01", "2026-12-31", "at most 366 days"),
    ],
)
def test_dates_that_make_no_period_are_refused_saying_why(first: str, last: str, said: str) -> None:
    with pytest.raises(PeriodError, match=said):
        Period.parse(first, last, SHANGHAI)


def test_open_hours_follow_the_week_and_skip_holidays() -> None:
    week = Period.parse("2026-11-23", "2026-11-29", SHANGHAI)  # Monday to Sunday
    assert week.open_seconds(WEEKDAYS_AND_WEEKENDS) == (5 * 14 + 8) * 3600
    new_year = Period.parse("2026-12-31", "2027-01-01", SHANGHAI)  # Thursday, a holiday
    assert new_year.open_seconds(WEEKDAYS_AND_WEEKENDS) == 14 * 3600


def test_a_day_that_changes_its_clock_has_the_hours_it_really_has() -> None:
    always = Hours.model_validate({"weekly": {"sun": ["00:00-24:00"]}})
    spring = Period.parse("2026-03-29", "2026-03-29", "Europe/London")  # clocks go forward
    autumn = Period.parse("2026-10-25", "2026-10-25", "Europe/London")  # and back

    assert spring.open_seconds(always) == 23 * 3600
    assert autumn.open_seconds(always) == 25 * 3600
    assert (spring.end - spring.start).total_seconds() == 23 * 3600
