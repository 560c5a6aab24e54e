"""Business hours, as a plain function of the flow's hours, its zone and a moment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from flowfile.queues import Hours
from queueing.hours import WEEKDAYS, is_open
from tests.flowfile.flows import shipped_flow

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


def test_a_period_may_run_to_midnight() -> None:
    hours = Hours(weekly={"fri": ["18:00-24:00"]})
    assert is_open(hours, "Asia/Shanghai", datetime(2026, 11, 27, 15, 59, tzinfo=UTC))  # 23:59
    assert not is_open(hours, "Asia/Shanghai", datetime(2026, 11, 27, 16, 0, tzinfo=UTC))  # Sat


def test_the_weekday_is_the_flows_not_utcs() -> None:
    hours = Hours(weekly={"mon": ["00:00-24:00"]})
    monday_early = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)  # Sunday in UTC
    assert is_open(hours, "Asia/Shanghai", monday_early)
    assert not is_open(hours, "UTC", monday_early)


def test_a_holiday_is_a_date_in_the_flows_zone_not_in_utc() -> None:
    hours = Hours(weekly=dict.fromkeys(WEEKDAYS, ["00:00-24:00"]), holidays=[date(2026, 11, 30)])
    eve = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)  # 23:30 on the 29th in Shanghai
    holiday = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)  # already the 30th in Shanghai
    assert is_open(hours, "Asia/Shanghai", eve)
    assert not is_open(hours, "Asia/Shanghai", holiday)
    assert is_open(hours, "Asia/Shanghai", datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # Dec 1


def test_hours_follow_daylight_saving_time_in_the_flows_zone() -> None:
    hours = Hours(weekly={"mon": ["09:00-17:00"]})
    summer = datetime(2026, 7, 6, 8, 30, tzinfo=UTC)  # 09:30 in London (BST)
    winter = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 08:30 in London (GMT)
    assert is_open(hours, "Europe/London", summer)
    assert not is_open(hours, "Europe/London", winter)


@pytest.mark.parametrize(
    ("shanghai", "open_"),
    [
        (datetime(2026, 12, 31, 21, 59), True),  # Thursday evening
        (datetime(2027, 1, 1, 10, 0), False),  # New Year's Day, a Friday
        (datetime(2027, 1, 2, 9, 0), True),  # Saturday from nine
        (datetime(2027, 1, 2, 18, 0), False),  # Saturday from six
        (datetime(2027, 2, 6, 12, 0), False),  # Spring Festival
    ],
)
def test_the_shipped_hours_and_holidays(shanghai: datetime, open_: bool) -> None:
    flow = shipped_flow()
    moment = shanghai.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert is_open(flow.hours, flow.timezone, moment) is open_
