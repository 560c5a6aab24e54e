"""The days a report covers: whole local days of the flow's time zone, as UTC bounds.

An operator says "1 to 6 December" and means the hotline's own days (Shanghai's, for
the default flow), not UTC's: a call at 07:30 on 2 December in Shanghai is on the 1st
in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flowfile.queues import Hours
from queueing.hours import WEEKDAYS

# A report reads every call of its days: a year is plenty, and bounds the work.
LONGEST_DAYS = 366


class PeriodError(ValueError):
    """Dates that make no period; the message says what to write instead."""


@dataclass(frozen=True)
class Period:
    first: date  # local days, both included
    last: date
    zone: str

    @classmethod
    def parse(
        cls, first: str, last: str, zone: str, names: tuple[str, str] = ("--from", "--to")
    ) -> Period:
        """The first and last days as written (ISO dates, in order, at most a year
        apart); errors call them by ``names``, as the operator knows them."""
        start, end = _date(names[0], first), _date(names[1], last)
        if start > end:
            raise PeriodError(
                f"{names[0]} {start} is after {names[1]} {end}: the period would be empty"
            )
        days = (end - start).days + 1
        if days > LONGEST_DAYS:
            raise PeriodError(f"{days} days from {start} to {end}: at most {LONGEST_DAYS} days")
        return cls(start, end, zone)

    @property
    def start(self) -> datetime:
        """The first moment of the period, in UTC (included)."""
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The first moment after the period, in UTC (excluded)."""
        return _midnight(self.last + timedelta(days=1), self.zone)

    def days(self) -> Iterator[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)

    def open_seconds(self, hours: Hours) -> int:
        """How long agents answer within the period, by the flow's weekly hours and
        holidays (a day that changes its clock counts the hours it really has)."""
        zone, total = ZoneInfo(self.zone), 0.0
        for day in self.days():
            if day in hours.holidays:
                continue
            for span in hours.weekly.get(WEEKDAYS[day.weekday()], []):
                opens, closes = (_at(day, part, zone) for part in span.split("-"))
                total += (closes - opens).total_seconds()
        return round(total)

    def __str__(self) -> str:
        return f"{self.first} to {self.last} ({self.zone})"


def _date(option: str, written: str) -> date:
    try:
        return date.fromisoformat(written.strip())
    except ValueError:
        raise PeriodError(f"{option} {written!r} is not a date such as 2026-12-01") from None


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)


def _at(day: date, clock: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    if hour == 24:  # "18:00-24:00": the end of the day
        return datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)
