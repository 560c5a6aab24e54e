"""bench/scale.py --quick, as issue 12 asks: a ratio row for each run on SQLite and on
PostgreSQL (every webhook, the wait document, the next caller), and every call played
into the small and the large database was served: each webhook answered with TwiML and
the call's row ended in the queue as the recipe's call did. Nothing here is about speed:
the figures are printed for a reader, not asserted."""

from __future__ import annotations

import re

from tests.bench.runs import run_bench
from tests.needs import cluster_programs

QUICK_CALLS = 20
RUNS = ["customers", "call history", "waiting, one queue", "waiting, all queues"]
MEASURED = ["webhook", "wait document", "next caller"]
ROW = re.compile(
    r"^(?P<run>\S.*?)\s{2,}(?P<database>SQLite|PostgreSQL)\s+(?P<what>\S.*?)\s{2,}"
    r"[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+[\d.]+x\s+\w+\s+"
    r"(?P<small>\d+)/(?P<calls>\d+) (?P<large>\d+)/(?P=calls)$"
)


def test_quick_run_prints_a_ratio_row_for_each_run_and_serves_every_call() -> None:
    cluster_programs()
    run = run_bench("scale.py", "--quick", timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    rows = {
        (found["run"], found["database"], found["what"]): found
        for line in run.stdout.splitlines()
        if (found := ROW.match(line))
    }
    expected = [
        (name, database, what)
        for name in RUNS
        for database in ("SQLite", "PostgreSQL")
        for what in MEASURED
    ]
    assert sorted(rows) == sorted(expected), run.stdout
    for found in rows.values():
        served = (int(found["small"]), int(found["large"]), int(found["calls"]))
        assert served == (QUICK_CALLS, QUICK_CALLS, QUICK_CALLS), run.stdout
