"""How long each agent spent in each status within a period, from their status history
(``agent_status_changes``, written by ``queueing.status_log``): what occupancy, signed-in
time and break time are measured from.

An agent is in a status from its row's ``at`` until their next row; before their first
row they were offline. The status an agent was in when the period began is their last
row before it, counted from the period's start; the status they are in now is counted
until now (or the period's end). A wrap-up that nobody ended counts as wrap-up for
AGENT_WRAP_UP_SECONDS and as available after that, as ``queueing.matching`` treats it
(the agent is rung again then), so an agent who walked away in wrap-up is not shown
as on calls for the rest of the day.

The database adds up the seconds, one row per agent and status; no history row is read
into Python.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import ColumnElement, Float, and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import CompoundSelect

from models import Agent, AgentStatusChange
from models.agents import AgentStatus
from models.base import UTCDateTime
from reports.period import Period
from reports.sql import greatest, least, seconds_between

Seconds = Counter[AgentStatus]  # seconds in each status, within the period
# Busy (rung, hearing about a caller, talking) and wrap-up: Connect's "on contact".
ON_CONTACTS = (AgentStatus.BUSY, AgentStatus.WRAP_UP)


def occupancy(seconds: Seconds) -> float | None:
    """Amazon Connect's *occupancy* ("Metric definitions in Amazon Connect", Administrator
    Guide, docs.aws.amazon.com/connect/latest/adminguide/metrics-definitions.html):
    time on contacts (Hotline's busy and wrap-up) over time on contacts and idle
    (available), so a break or being offline neither raises nor lowers it."""
    on_contacts = sum(seconds[status] for status in ON_CONTACTS)
    ready = on_contacts + seconds[AgentStatus.AVAILABLE]
    return on_contacts / ready if ready else None


def signed_in(seconds: Seconds) -> int:
    """Connect's *online time*: every status but offline, breaks included."""
    return sum(n for status, n in seconds.items() if status != AgentStatus.OFFLINE)


def time_in_status(
    session: Session, period: Period, now: datetime, wrap_up_seconds: int
) -> dict[str, Seconds]:
    """Per agent who has a status in the period, the seconds they spent in each; a
    period still under way ends now."""
    start = period.start
    stop = max(start, min(period.end, now))
    span = literal((stop - start).total_seconds(), Float())
    changes = _changes(start, stop).subquery()
    origin = literal(start, UTCDateTime())
    # Seconds from the period's start: when each status began and when it gave way.
    began = seconds_between(changes.c.at, origin)
    until = func.coalesce(
        seconds_between(
            func.lead(changes.c.at).over(
                partition_by=changes.c.agent_id, order_by=(changes.c.at, changes.c.id)
            ),
            origin,
        ),
        span,
    )
    spells = select(
        changes.c.agent_id,
        changes.c.status,
        began.label("began"),
        until.label("until"),
    ).subquery()
    # A wrap-up is its status until AGENT_WRAP_UP_SECONDS have passed; the rest of it,
    # if any, is available time.
    wrap_up_ends = case(
        (
            spells.c.status == AgentStatus.WRAP_UP.value,
            least(spells.c.until, spells.c.began + wrap_up_seconds),
        ),
        else_=spells.c.until,
    )

    def within(moment: ColumnElement[float]) -> ColumnElement[float]:
        return greatest(literal(0.0, Float()), least(moment, span))

    rows = session.execute(
        select(
            spells.c.agent_id,
            spells.c.status,
            func.sum(within(wrap_up_ends) - within(spells.c.began)),
            func.sum(within(spells.c.until) - within(wrap_up_ends)),
        ).group_by(spells.c.agent_id, spells.c.status)
    )
    spent: dict[str, Seconds] = {}
    for agent_id, status, in_status, ran_out in rows:
        seconds = spent.setdefault(str(agent_id), Counter())
        seconds[AgentStatus(status)] += round(in_status or 0)
        seconds[AgentStatus.AVAILABLE] += round(ran_out or 0)
    return spent


def _changes(start: datetime, stop: datetime) -> CompoundSelect[str, int, AgentStatus, datetime]:
    """The rows that say anything of [start, stop): each agent's last change before
    ``start`` and their changes from then until ``stop``; joined from ``agents`` so
    that the database can read both agent by agent through the (agent_id, at) index."""
    change = AgentStatusChange
    columns = (change.agent_id, change.id, change.status, change.at)
    earlier = aliased(AgentStatusChange)
    last_before = (
        select(earlier.id)
        .where(earlier.agent_id == Agent.id, earlier.at < start)
        .order_by(earlier.at.desc(), earlier.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return union_all(
        select(*columns).select_from(Agent).join(change, change.id == last_before),
        select(*columns)
        .select_from(Agent)
        .join(change, and_(change.agent_id == Agent.id, change.at >= start, change.at < stop)),
    )
