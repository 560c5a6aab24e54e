"""Real Hotline servers in other processes, for the tests (and bench/attack.py) that run
them: a free loopback port for each, and the wait until one listens."""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, what: str, seconds: float = 30) -> None:
    """Until something listens on ``port`` (a server starting is slow on a busy machine)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.2)
