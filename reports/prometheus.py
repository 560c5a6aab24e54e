"""The hotline's state as Prometheus metrics, read from the database at scrape time.

The database is shared by every server process, so these figures are right however
many processes serve /metrics, and need no multiprocess bookkeeping: four aggregate
queries per scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import Agent, Call, CallbackRequest
from models.agents import AgentStatus
from models.calls import CallStage
from models.queueing import CallbackStatus

log = logging.getLogger(__name__)


class HotlineNow:
    """Calls ended by outcome, callers waiting and the oldest wait per queue, callbacks
    waiting per queue, agents by status."""

    def __init__(self, session: Session, now: datetime, queues: Iterable[str]) -> None:
        self.session, self.now, self.queues = session, now, list(queues)

    def collect(self) -> Iterator[Metric]:
        # A database that does not answer still leaves the processes' own figures (the
        # apologies it causes among them) to be scraped, and says so itself.
        try:
            figures = [self._calls_ended(), *self._queues(), self._callbacks(), self._agents()]
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
        waiting: dict[str, tuple[int, datetime | None]] = dict.fromkeys(self.queues, (0, None))
        rows = self.session.execute(
            select(Call.queue, func.count(), func.min(Call.queued_at))
            .where(Call.stage == CallStage.QUEUED)
            .group_by(Call.queue)
        )
        for queue, count, first in rows:
            waiting[queue or "unknown"] = (count, first)
        callers = GaugeMetricFamily(
            "hotline_queue_callers", "Callers waiting in each queue now", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "hotline_queue_oldest_wait_seconds",
            "How long the longest-waiting caller of each queue has waited (0: nobody waits)",
            labels=["queue"],
        )
        for queue, (count, first) in waiting.items():
            callers.add_metric([queue], count)
            wait = (self.now - first).total_seconds() if first is not None else 0.0
            oldest.add_metric([queue], max(wait, 0.0))
        yield callers
        yield oldest

    def _callbacks(self) -> Metric:
        family = GaugeMetricFamily(
            "hotline_callbacks_open",
            "Callbacks waiting for an agent (or for their next attempt), by queue",
            labels=["queue"],
        )
        counts = dict.fromkeys(self.queues, 0)
        rows = self.session.execute(
            select(CallbackRequest.topic, func.count())
            .where(CallbackRequest.status == CallbackStatus.OPEN)
            .group_by(CallbackRequest.topic)
        )
        counts.update((key, count) for key, count in rows)
        for queue, count in counts.items():
            family.add_metric([queue], count)
        return family

    def _agents(self) -> Metric:
        family = GaugeMetricFamily("hotline_agents", "Agents by status now", labels=["status"])
        counts = dict.fromkeys(AgentStatus, 0)
        rows = self.session.execute(select(Agent.status, func.count()).group_by(Agent.status))
        counts.update((key, count) for key, count in rows)
        for status, count in counts.items():
            family.add_metric([status.value], count)
        return family
