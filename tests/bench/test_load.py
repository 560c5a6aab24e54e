"""bench/load.py --quick, as issue 12 asks: its table has a row for each server and
each ratio on SQLite and on PostgreSQL, and every Hotline call was served: each webhook
answered with TwiML and the call's row ended in the queue as the recipe's call did,
and still did after its answers were sent again (read-only webhooks);
and each of the call's ten webhooks has its statements and round trips counted.
Nothing here is about speed: the figures are printed for a reader, not asserted."""

from __future__ import annotations

import re

from tests.bench.runs import run_bench
from tests.needs import cluster_programs

QUICK_CALLS = 200
SERVERS = ["bare TwiML", "minimal stateful", "Hotline"]
LATE = "Hotline, late requests"
RATIOS = ["Hotline / bare TwiML", "Hotline / minimal stateful"]
ROW = re.compile(r"^(?P<database>SQLite|PostgreSQL)\s+(?P<name>\S.*?)\s+[\d.]+x?\s(?P<rest>.*)$")
SERVED = re.compile(r"\s(?P<served>\d+)/(?P<calls>\d+)\s")
COUNTED = re.compile(r"^/\S+\s+(\d+) / (\d+)\s+(\d+) / (\d+)$")
WEBHOOKS = 10  # a call's, as issue 12 lists them


def test_quick_run_prints_every_row_and_serves_every_hotline_call() -> None:
    cluster_programs()
    run = run_bench("load.py", "--quick", timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    rows = {
        (found["database"], found["name"]): found["rest"]
        for line in run.stdout.splitlines()
        if (found := ROW.match(line))
    }
    names = SERVERS + RATIOS + [LATE, "late requests / bare TwiML"]
    expected = [(db, name) for db in ("SQLite", "PostgreSQL") for name in names]
    assert sorted(rows) == sorted(expected), run.stdout
    for database in ("SQLite", "PostgreSQL"):
        # The late requests count as served only if every call still ended as before:
        # read-only webhooks that changed nothing.
        for name in ("Hotline", LATE):
            served = SERVED.search(rows[database, name])
            assert served is not None, run.stdout
            assert (int(served["served"]), int(served["calls"])) == (QUICK_CALLS, QUICK_CALLS)
    counted = [found for line in run.stdout.splitlines() if (found := COUNTED.match(line))]
    assert len(counted) == WEBHOOKS, run.stdout
    # Every webhook reads or writes the call's state, so each counts some statements.
    assert all(int(number) > 0 for found in counted for number in found.groups()), run.stdout
