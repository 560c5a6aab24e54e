"""Production serving (gunicorn.conf.py's sync workers behind deploy/nginx/hotline.conf):
clients that send their requests a byte at a time and never finish do not keep Twilio's
webhooks from their answers. Without nginx in front, the same few clients hold every
worker and the webhooks go unanswered, which is what the proxy is for."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests

from telephony.simulator import sign
from tests.conftest import HOTLINE, SECRET_KEY
from tests.conftest import TOKEN as TWILIO_TOKEN
from tests.servers import free_port, wait_for_port
from tests.serving.shipped import ROOT, SHIPPED, TWILIO_WAIT

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
WORKERS = 3  # as in the attack run that found slow clients holding every worker
SLOW_CLIENTS = 4 * WORKERS  # more than gunicorn replaces in Twilio's 15 s (timeout 10 s)
WEBHOOKS = 5

Connect = Callable[[], socket.socket]


class Server:
    """A process started for a test, its output kept in ``log`` for a failure's reader."""

    def __init__(self, command: list[str], environment: dict[str, str], log: Path) -> None:
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
            )

    def stop(self, how: signal.Signals) -> None:
        self.process.send_signal(how)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_gunicorn(tmp_path: Path, database: Path, public_base_url: str, port: int) -> Server:
    environment = os.environ | {
        "DATABASE_URL": f"sqlite:///{database}",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "HOTLINE_SECRET_KEY": SECRET_KEY,
        "TWILIO_VALIDATE_SIGNATURES": "true",
        "PUBLIC_BASE_URL": public_base_url,
        "SPOOL_DIR": str(tmp_path / "spool"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    # The shipped gunicorn.conf.py (read from the repository's directory), its bind
    # moved to a free port.
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS)]
    command += ["-b", f"127.0.0.1:{port}", "--no-control-socket", "app:create_server()"]
    server = Server(command, environment, tmp_path / "gunicorn.log")
    try:
        wait_for_port(port, "gunicorn")
    except BaseException:
        server.stop(signal.SIGINT)
        raise
    return server


def render_nginx(tmp_path: Path, port: int, upstream: int) -> Path:
    """The shipped site with its placeholders filled in, in a main configuration of
    the test's own (files, pid and buffers under ``tmp_path``)."""
    site = SHIPPED.read_text()
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    placeholders = {
        "server 127.0.0.1:8000": f"server 127.0.0.1:{upstream}",
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "listen [::]:443 ssl;": "",
        "/etc/letsencrypt/live/hotline.example.com/fullchain.pem": str(certificate),
        "/etc/letsencrypt/live/hotline.example.com/privkey.pem": str(key),
    }
    for placeholder, value in placeholders.items():
        assert placeholder in site, f"{SHIPPED} no longer has {placeholder!r}: update this test"
        site = site.replace(placeholder, value)
    (tmp_path / "hotline.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"""
        daemon off;
        user root;  # ignored unless run as root; the workers then read tmp_path
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/nginx-error.log;
        events {{ worker_connections 256; }}
        http {{
            access_log off;
            client_body_temp_path {tmp_path}/body;
            proxy_temp_path {tmp_path}/proxy;
            include {tmp_path}/hotline.conf;
        }}
        """
    )
    return main


class SlowClients:
    """Connections that send a webhook's request a byte a second and never finish:
    half stop inside the headers, half inside a body they announced."""

    def __init__(self, connect: Connect, count: int) -> None:
        self.sockets = [connect() for _ in range(count)]
        self.stopped = threading.Event()
        self.dripping = threading.Thread(target=self._drip, daemon=True)

    def __enter__(self) -> SlowClients:
        for n, client in enumerate(self.sockets):
            head = "POST /voice/incoming HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            if n % 2:
                head += "Content-Type: application/x-www-form-urlencoded\r\n"
                head += "Content-Length: 100000\r\n\r\nCallSid="
            client.sendall(head.encode())
        self.dripping.start()
        return self

    def _drip(self) -> None:
        while not self.stopped.wait(1):
            for client in self.sockets:
                try:
                    client.sendall(b"a")
                except OSError:  # a server that gave up on this one
                    pass

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.dripping.join()
        for client in self.sockets:
            client.close()


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
def behind_nginx(tmp_path: Path, database: Path) -> Iterator[tuple[str, Connect, Path]]:
    if NGINX is None or shutil.which("openssl") is None:
        reason = (
            "the serving tests need nginx and openssl (a certificate for nginx's https): "
            "apt-get install nginx-light openssl (.ci/run installs nginx-light)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    port, upstream = free_port(), free_port()
    public = f"https://127.0.0.1:{port}"  # what Twilio calls, and signs
    main = render_nginx(tmp_path, port, upstream)
    tls = ssl.create_default_context(cafile=tmp_path / "cert.pem")

    def connect() -> socket.socket:
        raw = socket.create_connection(("127.0.0.1", port))
        return tls.wrap_socket(raw, server_hostname="127.0.0.1")

    gunicorn = start_gunicorn(tmp_path, database, public, upstream)
    try:
        command = [NGINX, "-c", str(main), "-e", str(tmp_path / "nginx-error.log")]
        nginx = Server(command, dict(os.environ), tmp_path / "nginx.log")
        try:
            wait_for_port(port, "nginx")
            yield public, connect, tmp_path / "cert.pem"
        finally:
            nginx.stop(signal.SIGTERM)
    finally:
        gunicorn.stop(signal.SIGINT)


def test_behind_nginx_slow_clients_leave_the_webhooks_answered(
    behind_nginx: tuple[str, Connect, Path],
) -> None:
    public, connect, certificate = behind_nginx
    with SlowClients(connect, SLOW_CLIENTS):
        assert webhooks_answered(public, str(certificate)) == [True] * WEBHOOKS


def test_without_the_proxy_slow_clients_hold_every_worker(tmp_path: Path, database: Path) -> None:
    """The failure nginx prevents, shown on gunicorn alone with the same clients: the
    test above means something only while this one holds."""
    port = free_port()
    gunicorn = start_gunicorn(tmp_path, database, "", port)
    base = f"http://127.0.0.1:{port}"
    try:
        assert webhooks_answered(base) == [True] * WEBHOOKS  # it serves when left alone

        def connect() -> socket.socket:
            return socket.create_connection(("127.0.0.1", port))

        with SlowClients(connect, SLOW_CLIENTS):
            assert webhooks_answered(base) == [False] * WEBHOOKS
    finally:
        gunicorn.stop(signal.SIGINT)
