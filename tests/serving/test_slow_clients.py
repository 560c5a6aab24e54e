"""Production serving (gunicorn.conf.py's sync workers behind deploy/nginx/hotline.conf):
clients that send their requests a byte at a time and never finish do not keep Twilio's
webhooks from their answers. Without nginx in front, the same few clients hold every
worker and the webhooks go unanswered, which is what the proxy is for."""

from __future__ import annotations

import shutil
import signal
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests

from telephony.simulator import sign
from tests.conftest import HOTLINE
from tests.conftest import TOKEN as TWILIO_TOKEN
from tests.needs import missing
from tests.servers import free_port
from tests.serving.shipped import TWILIO_WAIT
from tests.serving.stack import MISSING, Proxy, SlowClients, available, nginx_in_front
from tests.serving.workers import start_gunicorn

WORKERS = 3  # as in the attack run that found slow clients holding every worker
SLOW_CLIENTS = 4 * WORKERS  # more than gunicorn replaces in Twilio's 15 s (timeout 10 s)
WEBHOOKS = 5


def answered(base: str, n: int, verify: str | bool) -> bool:
    """Whether one signed webhook got well-formed TwiML before Twilio would give up."""
    url = f"{base}/voice/incoming"
    params = {"CallSid": f"CA{n:032x}", "From": "+8613800138000", "To": HOTLINE}
    headers = {"X-Twilio-Signature": sign(TWILIO_TOKEN, url, params)}
    try:
        reply = requests.post(url, data=params, headers=headers, timeout=TWILIO_WAIT, verify=verify)
    except requests.Timeout:
        return False
    assert reply.status_code == 200, reply.text
    return ElementTree.fromstring(reply.content).tag == "Response"


def webhooks_answered(base: str, verify: str | bool = False) -> list[bool]:
    with ThreadPoolExecutor(WEBHOOKS) as pool:
        return list(pool.map(lambda n: answered(base, n, verify), range(WEBHOOKS)))


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "hotline.db"  # migrated already: three workers start at once
    shutil.copy(sqlite_template, path)
    return path


@pytest.fixture
def behind_nginx(tmp_path: Path, database: Path) -> Iterator[Proxy]:
    if not available():
        missing(MISSING)
    upstream = free_port()
    with nginx_in_front(tmp_path, upstream) as proxy:
        gunicorn = start_gunicorn(
            tmp_path, f"sqlite:///{database}", proxy.public, upstream, WORKERS
        )
        try:
            yield proxy
        finally:
            gunicorn.stop(signal.SIGINT)


def test_behind_nginx_slow_clients_leave_the_webhooks_answered(behind_nginx: Proxy) -> None:
    with SlowClients(behind_nginx.connect, SLOW_CLIENTS):
        assert (
            webhooks_answered(behind_nginx.public, str(behind_nginx.certificate))
            == [True] * WEBHOOKS
        )


def test_without_the_proxy_slow_clients_hold_every_worker(tmp_path: Path, database: Path) -> None:
    """The failure nginx prevents, shown on gunicorn alone with the same clients: the
    test above means something only while this one holds."""
    port = free_port()
    gunicorn = start_gunicorn(tmp_path, f"sqlite:///{database}", "", port, WORKERS)
    base = f"http://127.0.0.1:{port}"
    try:
        assert webhooks_answered(base) == [True] * WEBHOOKS  # it serves when left alone

        def connect() -> socket.socket:
            return socket.create_connection(("127.0.0.1", port))

        with SlowClients(connect, SLOW_CLIENTS):
            assert webhooks_answered(base) == [False] * WEBHOOKS
    finally:
        gunicorn.stop(signal.SIGINT)
