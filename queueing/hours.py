"""Whether agents answer at a given moment, by the flow file's hours and holidays."""

from __future__ import annotations

from datetime import datetime
from typing import get_args
from zoneinfo import ZoneInfo

from flowfile.queues import Hours, Weekday

WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)


def is_open(hours: Hours, zone: str, moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo(zone))
    if local.date() in hours.holidays:
        return False
    minute = local.hour * 60 + local.minute
    for period in hours.weekly.get(WEEKDAYS[local.weekday()], []):
        start, end = (_minutes(part) for part in period.split("-"))
        if start <= minute < end:
            return True
    return False


def _minutes(clock: str) -> int:
    hour, minute = clock.split(":")
    return int(hour) * 60 + int(minute)
