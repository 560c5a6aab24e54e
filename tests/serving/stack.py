"""The production serving stack, run for real by the serving tests and bench/attack.py:
processes started and stopped, the shipped nginx site in front of gunicorn on loopback
ports, and clients that send their requests a byte at a time. No pytest here."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port, wait_for_port
from tests.serving.shipped import ROOT, SHIPPED

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
MISSING = (
    "nginx and openssl are needed (a certificate for nginx's https): "
    "apt-get install nginx-light openssl (.ci/run installs nginx-light)"
)

Connect = Callable[[], socket.socket]


class Server:
    """A process started for a test or a benchmark, its output kept in ``log`` for a
    failure's reader."""

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


def available() -> bool:
    return NGINX is not None and shutil.which("openssl") is not None


def render_nginx(folder: Path, port: int, upstream: int) -> Path:
    """The shipped site with its placeholders filled in, in a main configuration of its
    own (files, pid and buffers under ``folder``)."""
    site = SHIPPED.read_text()
    certificate, key = folder / "cert.pem", folder / "key.pem"
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
        if placeholder not in site:
            raise RuntimeError(f"{SHIPPED} no longer has {placeholder!r}: update {__file__}")
        site = site.replace(placeholder, value)
    (folder / "hotline.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(
        f"""
        daemon off;
        user root;  # ignored unless run as root; the workers then read the folder
        pid {folder}/nginx.pid;
        error_log {folder}/nginx-error.log;
        events {{ worker_connections 1024; }}
        http {{
            access_log off;
            client_body_temp_path {folder}/body;
            proxy_temp_path {folder}/proxy;
            include {folder}/hotline.conf;
        }}
        """
    )
    return main


@dataclass(frozen=True)
class Proxy:
    """nginx running the shipped site: the https URL Twilio would call (and sign), the
    certificate that URL's clients trust, and raw TLS connections to it."""

    public: str
    certificate: Path
    port: int

    def connect(self) -> socket.socket:
        tls = ssl.create_default_context(cafile=self.certificate)
        raw = socket.create_connection(("127.0.0.1", self.port))
        return tls.wrap_socket(raw, server_hostname="127.0.0.1")


@contextmanager
def nginx_in_front(folder: Path, upstream: int) -> Iterator[Proxy]:
    """The shipped nginx site on a free port, passing requests to ``upstream``."""
    if not available():
        raise RuntimeError(MISSING)
    assert NGINX is not None
    port = free_port()
    main = render_nginx(folder, port, upstream)
    command = [NGINX, "-c", str(main), "-e", str(folder / "nginx-error.log")]
    nginx = Server(command, dict(os.environ), folder / "nginx.log")
    try:
        wait_for_port(port, "nginx")
        yield Proxy(f"https://127.0.0.1:{port}", folder / "cert.pem", port)
    finally:
        nginx.stop(signal.SIGTERM)


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
