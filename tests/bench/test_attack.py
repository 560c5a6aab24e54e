"""bench/attack.py against Hotline as deployed (the shipped nginx in front of gunicorn
with 3 workers) at 10,000 signed fuzzed requests, as issue 11 asks of CI: on SQLite,
and on a PostgreSQL cluster of the run's own, which it also shuts down and SIGSTOPs
while calls come in. Every attack class reports no failure, the timing comparison at
its default 100 tries a kind."""

from __future__ import annotations

import re

from tests.bench.runs import run_bench
from tests.needs import cluster_programs

CLASSES = [
    "signed fuzzing",
    "forged signatures",
    "replayed webhooks",
    "parallel PIN guessing",
    "SMS pumping",
    "slow clients",
    "enumeration by timing",
    "consistency checks",
]
FAULTS = ["database refused", "database hung"]
REQUESTS = 10_000
ROW = re.compile(r"^(?P<name>[A-Za-z ]+?)\s+(?P<tried>\d+)\s+(?P<failures>\d+)\s+\d+ ms$")


def attack(*options: str) -> dict[str, tuple[int, int]]:
    """Each class's requests tried and failures, as the table printed them."""
    run = run_bench("attack.py", "--requests", str(REQUESTS), *options, timeout=600)
    rows = {
        found["name"]: (int(found["tried"]), int(found["failures"]))
        for line in run.stdout.splitlines()
        if (found := ROW.match(line))
    }
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    return rows


def assert_held(rows: dict[str, tuple[int, int]], classes: list[str]) -> None:
    assert sorted(rows) == sorted(classes)
    assert rows["signed fuzzing"][0] == REQUESTS
    assert all(tried > 0 and failures == 0 for tried, failures in rows.values()), rows


def test_every_attack_class_fails_nothing_on_sqlite() -> None:
    assert_held(attack(), CLASSES)


def test_every_attack_class_fails_nothing_on_postgresql_refused_and_hung() -> None:
    cluster_programs()
    rows = attack("--private-postgres", "--refused-seconds", "5", "--hung-seconds", "10")
    assert_held(rows, CLASSES + FAULTS)
