"""bench/load.py --quick, as issue 12 asks: its table has a row for each server and
each ratio on SQLite and on PostgreSQL, for both call mixes (and, with --ladder, for the
minimal stateful webhook through SQLAlchemy Core and its ORM, each call of which was
served), and every Hotline call was served: each webhook answered with TwiML and the
call's row ended as the recipe's call did (in the queue; or, bridged, put through to an
agent and rated), and the whole calls still did after their answers were sent again
(read-only webhooks); and each webhook of a whole call (ten) and of a bridged one (25)
has its statements and round trips counted; each mix is played with the servers by
turns, the whole calls here in two rounds. Nothing here is about speed: the figures are
printed for a reader, not asserted."""

from __future__ import annotations

import re

from tests.bench.runs import run_bench
from tests.needs import cluster_programs

SERVERS = ["bare TwiML", "minimal stateful", "Hotline"]
ROUNDS = ("--concurrency", "12", "--rounds", "2")
LADDER = ["minimal Core", "minimal ORM"]  # --ladder: the same webhook through SQLAlchemy
LATE = "Hotline, late requests"
QUICK_CALLS = {"Hotline": 100, LATE: 100, "Hotline, bridged": 50, **dict.fromkeys(LADDER, 100)}
RATIOS = [f"Hotline / {reference}" for reference in SERVERS[:2] + LADDER]
BRIDGED = [f"{server}, bridged" for server in SERVERS]
BRIDGED_RATIOS = ["bridged / bare TwiML", "bridged / minimal stateful"]
ROW = re.compile(r"^(?P<database>SQLite|PostgreSQL)\s+(?P<name>\S.*?)\s+[\d.]+x?\s(?P<rest>.*)$")
SERVED = re.compile(r"\s(?P<served>\d+)/(?P<calls>\d+)\s")
COUNTED = re.compile(r"^/\S+\s+(\d+) / (\d+)\s+(\d+) / (\d+)$")
WEBHOOKS = 10  # a whole call's, as issue 12 lists them
BRIDGED_WEBHOOKS = 25  # a bridged call's: the caller's, the agent's and the conference's
# The agent's leg, each of which only the bridged mix reaches.
AGENT_LEG = ["/agents/ring", "/agents/ring/key", "/agents/answer", "/agents/room", "/agents/after"]


def test_quick_run_prints_every_row_and_serves_every_hotline_call() -> None:
    cluster_programs()
    # 12 connections, so that the 100 calls make two rounds of 4 calls a connection.
    run = run_bench("load.py", "--quick", "--ladder", *ROUNDS, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    for database in ("SQLite", "PostgreSQL"):
        # Each server loaded by turns, the first of each round another.
        firsts = [f"load: {database}, round {n} of 2, {SERVERS[n - 1]} ..." for n in (1, 2)]
        # The bridged mix's 50 calls make one round, by turns all the same.
        firsts += [f"load: {database}, bridged, round 1 of 1, {name} ..." for name in SERVERS]
        assert all(first in run.stderr for first in firsts), run.stderr[-3000:]
    rows = {
        (found["database"], found["name"]): found["rest"]
        for line in run.stdout.splitlines()
        if (found := ROW.match(line))
    }
    names = SERVERS + LADDER + RATIOS + [LATE, "late requests / bare TwiML"]
    names += BRIDGED + BRIDGED_RATIOS
    expected = [(db, name) for db in ("SQLite", "PostgreSQL") for name in names]
    assert sorted(rows) == sorted(expected), run.stdout
    for database in ("SQLite", "PostgreSQL"):
        # The late requests count as served only if every call still ended as before:
        # read-only webhooks that changed nothing.
        for name, calls in QUICK_CALLS.items():
            served = SERVED.search(rows[database, name])
            assert served is not None, run.stdout
            assert (int(served["served"]), int(served["calls"])) == (calls, calls)
    counted = [found for line in run.stdout.splitlines() if (found := COUNTED.match(line))]
    assert len(counted) == WEBHOOKS + BRIDGED_WEBHOOKS, run.stdout
    bridged = {found.group(0).split()[0].partition("?")[0] for found in counted[WEBHOOKS:]}
    assert set(AGENT_LEG) <= bridged, run.stdout
    # Every webhook reads or writes the call's state, so each counts some statements.
    assert all(int(number) > 0 for found in counted for number in found.groups()), run.stdout
