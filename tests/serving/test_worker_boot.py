"""A gunicorn worker replaced while the database is down (gunicorn replaces one it
killed at its timeout, or one that died) boots without it and answers the failure path:
the master migrated the schema before forking (gunicorn.conf.py). Were the worker to
migrate as it boots, it would fail, and gunicorn, whose worker failed to boot, would stop
altogether: no answer at all, nor after the database came back."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests

from telephony.simulator import sign
from tests.clusters import Cluster
from tests.conftest import HOTLINE
from tests.conftest import TOKEN as TWILIO_TOKEN
from tests.needs import private_cluster
from tests.servers import free_port
from tests.serving.shipped import TWILIO_WAIT
from tests.serving.workers import start_gunicorn

APOLOGY = "something went wrong"
GREETING = "For English, press 2"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with private_cluster() as cluster:
        yield cluster


def worker_of(master: int) -> int | None:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            return int(stat.parent.name)
    return None


def incoming(base: str, n: int) -> str:
    """A new call's first webhook, signed; what it answered, within Twilio's wait."""
    url = f"{base}/voice/incoming"
    params = {"CallSid": f"CA{n:032x}", "From": "+8613800138000", "To": HOTLINE}
    headers = {"X-Twilio-Signature": sign(TWILIO_TOKEN, url, params)}
    reply = requests.post(url, data=params, headers=headers, timeout=TWILIO_WAIT)
    assert reply.status_code == 200 and ElementTree.fromstring(reply.content).tag == "Response"
    return reply.text


def test_a_worker_replaced_while_the_database_is_down_boots_and_answers(
    tmp_path: Path, cluster: Cluster
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = start_gunicorn(tmp_path, cluster.url_of("postgres"), base, port, workers=1)
    try:
        assert GREETING in incoming(base, 1)
        first = worker_of(gunicorn.process.pid)
        assert first is not None
        cluster.stop()
        os.kill(first, signal.SIGKILL)  # as gunicorn's own kill at its timeout
        deadline = time.monotonic() + 30  # a worker's boot, on a busy machine
        while worker_of(gunicorn.process.pid) in (None, first):
            assert gunicorn.process.poll() is None, (
                "gunicorn stopped: " + (tmp_path / "gunicorn.log").read_text()[-2000:]
            )
            assert time.monotonic() < deadline, "no worker replaced the one killed"
            time.sleep(0.2)
        assert APOLOGY in incoming(base, 2)  # the new worker answers, without the database
        cluster.start()
        assert GREETING in incoming(base, 3)
    finally:
        gunicorn.stop(signal.SIGTERM)
