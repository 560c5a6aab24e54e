"""gunicorn's settings for Hotline, read from the working directory when it starts
(``gunicorn -w 4 -b 127.0.0.1:8000 'app:create_server()'``); command-line options
still apply.

Here only the bookkeeping of Prometheus's multiprocess mode, so that /metrics counts
every worker's webhooks, whichever worker answers the scrape (prometheus-client's
"Multiprocess Mode" page, prometheus.github.io/client_python/multiprocess/):

- each worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR``. The page
  asks for it to be set before Python starts, since prometheus-client reads it when
  first imported; setting it here does the same, because this file runs in gunicorn's
  master before any worker is forked or imports prometheus-client. Set it yourself
  (a directory on a local disk, kept for this server) or a new temporary one is made;
- the files are wiped when gunicorn starts, as the page asks, and not when it reloads
  (HUP), so totals carry on across reloads;
- a worker that exits is marked dead (``mark_process_dead``): its counts stay, its
  live gauges go.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# A directory made here, not the operator's, is removed again when gunicorn exits.
OWN_PREFIX = "hotline-metrics-"

if not os.environ.get(MULTIPROCESS_DIRECTORY):
    os.environ[MULTIPROCESS_DIRECTORY] = tempfile.mkdtemp(prefix=OWN_PREFIX)


def on_starting(server: Any) -> None:
    directory = Path(os.environ[MULTIPROCESS_DIRECTORY])
    directory.mkdir(parents=True, exist_ok=True)
    for values in directory.glob("*.db"):  # prometheus-client's files only
        values.unlink()


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess  # after the directory is set, in the master

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    directory = Path(os.environ[MULTIPROCESS_DIRECTORY])
    if directory.name.startswith(OWN_PREFIX) and directory.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(directory, ignore_errors=True)
