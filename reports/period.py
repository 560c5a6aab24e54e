"""The span a report covers: whole local days in the flow's time zone, held as UTC bounds
(the database keeps UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, included
    end: datetime  # UTC, excluded

    @classmethod
    def from_dates(cls, first: date, last: date, tz: str | tzinfo) -> Period:
        """``first`` to ``last`` (both included) as local days in ``tz``; a day of a
        clock change is as long as it really was."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        start = datetime.combine(first, time(), zone)
        end = datetime.combine(last + timedelta(days=1), time(), zone)
        return cls(start.astimezone(UTC), end.astimezone(UTC))
