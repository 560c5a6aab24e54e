"""A report of the running app: its flow's time zone and hours, its settings'
threshold, its database read from one snapshot. The command and the admin page both
come here."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app

from flowfile.flow import Flow
from models.db import database
from reports.figures import Report, gather
from reports.period import Period

# A report's statements may each take this long on PostgreSQL (a webhook's: 3 s).
REPORT_SECONDS = 30


def period(
    first: str | None, last: str | None, names: tuple[str, str] = ("--from", "--to")
) -> Period:
    """From ``first`` to ``last`` (ISO dates, both included): ``last`` left out is
    today, the flow's today by the app's clock; ``first`` left out is ``last``. Raises
    ``PeriodError`` naming what is wrong."""
    flow: Flow = current_app.extensions["flow"]
    today = current_app.extensions["clock"]().astimezone(ZoneInfo(flow.timezone)).date()
    last = last or today.isoformat()
    return Period.parse(first or last, last, flow.timezone, names)


def report(days: Period) -> Report:
    flow: Flow = current_app.extensions["flow"]
    settings = current_app.extensions["settings"]
    now = current_app.extensions["clock"]()
    with database().reading(REPORT_SECONDS) as session:
        return gather(
            session,
            flow,
            days,
            settings.service_level_seconds,
            now=now,
            wrap_up_seconds=settings.agent_wrap_up_seconds,
        )
