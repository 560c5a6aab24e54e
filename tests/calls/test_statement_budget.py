"""What each webhook of a whole call asks of the database (issue 12): a caller verified
by PIN through two menus into the queue, an agent who signs in, takes them and talks,
the caller's rating, the agent's wrap-up. Each webhook has a budget of statements; a
change that adds queries to one fails here, and says which webhook and what it ran.
Every statement is a round trip on PostgreSQL, and holds a worker meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telephony.simulator import Switch
from tests.queueing.test_agent_line import LINA, WANG, signed_in
from tests.queueing.test_agent_line import waiting as queued
from tests.queueing.test_ringing import available, emily_waits, hears_it
from tests.sql import listening

pytestmark = pytest.mark.usefixtures("demo")

# The most statements each webhook may run on either database (BEGIN and COMMIT are not
# statements here: reads run outside a transaction, which begins at a webhook's first
# write; webhooks take their connection from the pool unpinged; models.db).
# Lower one when a change makes it cheaper.
BUDGET = {
    "/voice/incoming": 5,
    "/voice/language": 3,
    "/voice/verify/number": 4,
    "/voice/verify/secret": 7,
    "/voice/menu": 4,
    "/voice/queue/wait": 5,
    "/voice/queue/connect": 3,
    "/voice/queue/conference": 4,
    "/voice/queue/left": 1,
    "/voice/queue/after-agent": 2,
    "/voice/queue/rating": 3,
    "/voice/status": 3,
    "/agents/incoming": 3,
    "/agents/pin": 7,
    "/agents/menu": 9,
    "/agents/answer": 8,
    "/agents/room": 1,
    "/agents/status": 8,
    "/agents/after": 4,
}
# A rung agent's own webhooks (bench/load.py's bridged mix); the others are BUDGET's.
RUNG_BUDGET = {
    "/agents/ring": 4,
    "/agents/ring/key": 5,
    "/agents/ring/status": 8,
}


@dataclass
class Webhook:
    # The request's WSGI environ, held so that each request counts apart: an id() of a
    # request gone may be reused by the next one.
    environ: dict[str, Any]
    path: str
    ran: list[str] = field(default_factory=list)


@contextmanager
def statements_by_webhook(engine: Engine) -> Iterator[list[Webhook]]:
    """Each request's path and the SQL it ran, in the order the requests came."""
    seen: list[Webhook] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not has_request_context():
            return
        if not seen or seen[-1].environ is not request.environ:
            seen.append(Webhook(request.environ, request.path))
        seen[-1].ran.append(" ".join(statement.split())[:120])

    with listening(engine, "before_cursor_execute", count):
        yield seen


def test_each_webhook_of_a_whole_call_keeps_to_its_budget(
    phone, switch: Switch, engine: Engine
) -> None:
    with statements_by_webhook(engine) as seen:
        caller = queued(phone, WANG, ("2",))
        caller.hold(position=1, seconds=40)  # the wait document again
        agent = signed_in(phone, LINA).press("1").press("1")
        switch.wait(60)
        agent.hang_up()
        caller.press("1")
    assert caller.hung_up
    over = over_budget(seen, BUDGET)
    assert not over, "\n".join(over)
    assert set(BUDGET) <= {hook.path for hook in seen}


def test_a_rung_agents_webhooks_keep_to_their_budget(
    phone, switch: Switch, twilio_api, engine: Engine, db: Session
) -> None:
    # The agent is rung for the caller, presses 1 to hear who it is and 1 to take them,
    # talks and hangs up: the Dial's action, then the ring's status callback.
    available(db, A04=1)
    with statements_by_webhook(engine) as seen:
        caller = emily_waits(phone).hold(position=1, seconds=10)
        agent = hears_it(switch, twilio_api.calls()[0]).press("1")
        assert agent.conference == f"hotline-{caller.call_sid}"
        switch.wait(60)
        agent.hang_up()
    agents = [hook for hook in seen if hook.path.startswith("/agents/")]
    over = over_budget(agents, BUDGET | RUNG_BUDGET)
    assert not over, "\n".join(over)
    assert set(RUNG_BUDGET) | {"/agents/answer"} <= {hook.path for hook in agents}


def over_budget(seen: list[Webhook], budget: dict[str, int]) -> list[str]:
    """Each webhook that ran more statements than ``budget`` allows, with what it ran."""
    return [
        f"{hook.path}: {len(hook.ran)} statements, budget {budget.get(hook.path, 0)}:\n  "
        + "\n  ".join(hook.ran)
        for hook in seen
        if len(hook.ran) > budget.get(hook.path, 0)
    ]
