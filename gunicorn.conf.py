"""gunicorn's settings for Hotline, read from the working directory when it starts
(``gunicorn -w 4 'app:create_server()'``); command-line options still apply.

Serving: sync workers, one request each, behind the buffering nginx of
``deploy/nginx/hotline.conf``. A sync worker reads its request itself, so without a
buffering proxy a few clients that send slowly hold every worker (gunicorn's
"Deploying Gunicorn" page, gunicorn.org/deploy, asks for one with sync workers).
nginx reads each request whole before it reaches a worker, and gunicorn listens on
the loopback interface only, where nothing but nginx reaches it. A worker silent
for ``timeout`` seconds is killed and replaced: nginx then answers 502 and Twilio
asks the Fallback URL at once, instead of after the 15 s Twilio waits for an answer
(twilio.com/docs/api/errors/11205). Threads (gthread) would not do instead: a
thread reads its request as a sync worker does, so slow clients only need more
connections to hold them all.

The master prepares the database once before it forks any worker (the schema migrated,
the spool replayed), and again on a reload (HUP): workers then start without the
database, so that one replaced while the database is down still boots and answers the
failure path, instead of failing to boot, which would stop gunicorn altogether.

And the bookkeeping of Prometheus's multiprocess mode, so that /metrics counts
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

worker_class = "sync"
bind = ["127.0.0.1:8000"]  # nginx's upstream in deploy/nginx/hotline.conf
# Below Twilio's 15 s and nginx's proxy_read_timeout (12 s), so that a worker stuck
# on one webhook is replaced and Twilio hears 502 in time to ask the Fallback URL.
timeout = 10

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
    prepare(server)


def on_reload(server: Any) -> None:
    prepare(server)  # new code may bring a migration


def prepare(server: Any) -> None:
    """The schema migrated (and the spool replayed) here, once, before workers are forked:
    gunicorn replaces a worker it killed, and the replacement must boot even while the
    database is down, to answer the failure path. A worker that failed to boot would stop
    gunicorn altogether (its "Worker failed to boot")."""
    import app  # here, in the master: after the metrics directory is set

    hotline = app.create_server()
    hotline.extensions["db"].engine.dispose()  # no connection may cross a fork
    os.environ[app.PREPARED] = "1"


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess  # after the directory is set, in the master

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    directory = Path(os.environ[MULTIPROCESS_DIRECTORY])
    if directory.name.startswith(OWN_PREFIX) and directory.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(directory, ignore_errors=True)
