"""/metrics under gunicorn with two workers (prometheus-client's multiprocess mode, set
up by gunicorn.conf.py): whichever worker answers a scrape counts every worker's
webhooks, and a worker that dies takes none of its counts with it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from telephony.simulator import sign
from tests.admin.scrapes import BEARER, TOKEN, parse, value
from tests.conftest import HOTLINE, SECRET_KEY
from tests.conftest import TOKEN as TWILIO_TOKEN
from tests.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
BATCH = 4  # webhooks sent at once, so that both workers get some


class Gunicorn:
    def __init__(self, base: str, directory: Path) -> None:
        self.base, self.directory, self.sent = base, directory, 0

    def workers_counting(self) -> set[int]:
        """The workers that have timed a webhook: each writes its own file."""
        return {int(path.stem.rpartition("_")[2]) for path in self.directory.glob("histogram_*")}

    def send_webhooks(self) -> None:
        with ThreadPoolExecutor(BATCH) as pool:
            replies = list(pool.map(self._incoming, range(self.sent, self.sent + BATCH)))
        assert all(reply.status_code == 200 and "<Response" in reply.text for reply in replies)
        self.sent += BATCH

    def _incoming(self, n: int) -> requests.Response:
        url = f"{self.base}/voice/incoming"
        params = {"CallSid": f"CA{n:032x}", "From": "+8613800138000", "To": HOTLINE}
        headers = {"X-Twilio-Signature": sign(TWILIO_TOKEN, url, params)}
        return requests.post(url, data=params, headers=headers, timeout=10)

    def webhooks_counted(self) -> float:
        reply = requests.get(f"{self.base}/metrics", headers=BEARER, timeout=10)
        assert reply.status_code == 200
        name = "hotline_webhook_duration_seconds_count"
        return value(parse(reply.text), name, webhook="voice.incoming")


@pytest.fixture
def gunicorn(sqlite_template: Path, tmp_path: Path) -> Iterator[Gunicorn]:
    # Migrated already: two workers starting at once must not both migrate SQLite.
    database = tmp_path / "hotline.db"
    shutil.copy(sqlite_template, database)
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_99999.db").write_bytes(b"left by an earlier run")  # to be wiped
    environment = os.environ | {
        "DATABASE_URL": f"sqlite:///{database}",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "HOTLINE_SECRET_KEY": SECRET_KEY,
        "TWILIO_VALIDATE_SIGNATURES": "true",
        "PUBLIC_BASE_URL": "",
        "SPOOL_DIR": str(tmp_path / "spool"),
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
        + ["--no-control-socket", "app:create_server()"],
        cwd=ROOT,  # where gunicorn finds gunicorn.conf.py, as an operator starts it
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, "gunicorn")
        yield Gunicorn(f"http://127.0.0.1:{port}", directory)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_every_scrape_counts_the_webhooks_of_every_worker(gunicorn: Gunicorn) -> None:
    deadline = time.monotonic() + 60
    while len(gunicorn.workers_counting()) < 2:
        assert time.monotonic() < deadline, "one worker answered every webhook"
        gunicorn.send_webhooks()
    assert [gunicorn.webhooks_counted() for _ in range(6)] == [gunicorn.sent] * 6

    os.kill(min(gunicorn.workers_counting()), signal.SIGTERM)  # gunicorn starts another
    gunicorn.send_webhooks()
    assert [gunicorn.webhooks_counted() for _ in range(4)] == [gunicorn.sent] * 4
