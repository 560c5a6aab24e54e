"""The hotline's state as Prometheus metrics, read from the database at scrape time.

The database is shared by every server process, so these figures are right however
many processes serve /metrics, and need no multiprocess bookkeeping: four aggregate
queries per scrape, the queues' the wallboard's own (``reports.live``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from flowfile.flow import Flow
from models import Agent, Call
from models.agents import AgentStatus
from reports import live

log = logging.getLogger(__name__)


class HotlineNow:
    """Calls ended by outcome, callers waiting and the oldest wait per queue, callbacks
    waiting per queue, agents by status."""

    def __init__(self, session: Session, now: datetime, flow: Flow) -> None:
        self.session, self.now, self.flow = session, now, flow

    def collect(self) -> Iterator[Metric]:
        # A database that does not answer still leaves the processes' own figures (the
        # apologies it causes among them) to be scraped, and says so itself.
        try:
            figures = [self._calls_ended(), *self._queues(), self._agents()]
        except SQLAlchemyError:
            log.warning("the database did not answer the metrics scrape", exc_info=True)
            figures = []
        yield from figures
        yield GaugeMetricFamily(
            "hotline_database_up",
            "1 if the database answered this scrape's queries, else 0",
            value=1 if figures else 0,
        )

    def _calls_ended(self) -> Metric:
        # Counted once a call has ended, under its final outcome: a total that only
        # grows, so rate() and increase() work over any period.
        family = CounterMetricFamily(
            "hotline_calls_ended", "Calls that have ended, by outcome", labels=["outcome"]
        )
        rows = self.session.execute(
            select(func.coalesce(Call.outcome, "unknown"), func.count())
            .where(Call.ended_at.is_not(None))
            .group_by(Call.outcome)
        )
        for outcome, count in rows:
            family.add_metric([outcome], count)
        return family

    def _queues(self) -> Iterator[Metric]:
        """What the wallboard shows of each queue (``reports.live``), for Prometheus."""
        callers = GaugeMetricFamily(
            "hotline_queue_callers", "Callers waiting in each queue now", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "hotline_queue_oldest_wait_seconds",
            "How long the longest-waiting caller of each queue has waited (0: nobody waits)",
            labels=["queue"],
        )
        callbacks = GaugeMetricFamily(
            "hotline_callbacks_open",
            "Callbacks not yet done (waiting their turn, or being made), by queue",
            labels=["queue"],
        )
        for queue in live.queues(self.session, self.flow, self.now):
            callers.add_metric([queue.name], queue.waiting)
            oldest.add_metric([queue.name], queue.oldest_wait or 0)
            callbacks.add_metric([queue.name], queue.callbacks)
        yield from (callers, oldest, callbacks)

    def _agents(self) -> Metric:
        family = GaugeMetricFamily("hotline_agents", "Agents by status now", labels=["status"])
        counts = dict.fromkeys(AgentStatus, 0)
        rows = self.session.execute(select(Agent.status, func.count()).group_by(Agent.status))
        counts.update((key, count) for key, count in rows)
        for status, count in counts.items():
            family.add_metric([status.value], count)
        return family
