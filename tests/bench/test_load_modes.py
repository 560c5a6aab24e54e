"""bench/load.py's other two modes, briefly: ``--servers 2`` (issue 12, item 4) plays
Hotline on one server and on two sharing one PostgreSQL database, serves every call of
both, and says two against one and where the machine's CPU went; ``--minutes`` (item 5)
keeps Hotline loaded, serves every call, and follows each worker's memory. Nothing here
is about speed: the figures are printed for a reader, not asserted."""

from __future__ import annotations

import re

from tests.bench.runs import run_bench
from tests.needs import cluster_programs

SERVED = re.compile(r"^(?P<servers>[12]) server\(s\)\s.*\s(?P<served>\d+)/(?P<calls>\d+)\s")
DRIFT = re.compile(r"worker \d+ [+-]\d+\.\d%")


def test_two_servers_serve_every_call_and_say_where_the_cpu_went() -> None:
    cluster_programs()
    run = run_bench("load.py", "--servers", "2", "--calls", "60", timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    served = {
        found["servers"]: (int(found["served"]), int(found["calls"]))
        for line in run.stdout.splitlines()
        if (found := SERVED.match(line))
    }
    assert served == {"1": (60, 60), "2": (60, 60)}, run.stdout
    assert re.search(r"^two / one\s+\d+\.\d+x", run.stdout, re.MULTILINE), run.stdout
    for servers in ("1 server(s)", "2 server(s)"):
        # Where the limit is: each side of the machine's CPU, and the database's waits.
        line = next(line for line in run.stdout.splitlines() if line.startswith(servers + ":"))
        assert all(part in line for part in ("workers", "PostgreSQL", "clients", "lock wait"))


def test_a_loaded_hotline_keeps_serving_and_its_workers_memory_is_followed() -> None:
    # Under a minute: two samples of each worker after the warm-up, 15 s apart.
    run = run_bench("load.py", "--minutes", "0.6", "--calls", "100", "--sqlite-only", timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    head = next(line for line in run.stdout.splitlines() if line.startswith("Hotline on"))
    served = re.search(r"(\d+)/(\d+) served", head)
    assert served is not None and served[1] == served[2] and int(served[1]) >= 100, head
    drift = next(line for line in run.stdout.splitlines() if line.startswith("VmRSS drift"))
    assert len(DRIFT.findall(drift)) == 2, drift  # each of the 2 workers
