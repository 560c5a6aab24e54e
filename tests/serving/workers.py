"""gunicorn as shipped (gunicorn.conf.py, read from the repository's directory), started
for a test (or bench/load.py) on a free port, with the tests' secrets."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from flask import Flask

from app import create_server
from ops.commands import DEMO_FILE
from settings import Settings
from tests.conftest import SECRET_KEY
from tests.conftest import TOKEN as TWILIO_TOKEN
from tests.servers import wait_for_port
from tests.serving.stack import Server


def with_demo_data(settings: Settings) -> Flask:
    """Hotline on ``settings``' database, migrated and holding the demo data, before
    workers are started on it (a benchmark's servers, the attack run's)."""
    app = create_server(settings)
    result = app.test_cli_runner().invoke(args=["import-data", str(DEMO_FILE)])
    if result.exit_code != 0:
        raise SystemExit(f"import-data failed: {result.output}")
    return app


def start_gunicorn(
    folder: Path,
    database_url: str,
    public_base_url: str,
    port: int,
    workers: int,
    *,
    target: str = "app:create_server()",
    extra: dict[str, str] | None = None,
) -> Server:
    """Hotline (or another WSGI app, ``target``) with ``extra`` settings added."""
    environment = (
        os.environ
        | (extra or {})
        | {
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "HOTLINE_SECRET_KEY": SECRET_KEY,
            "TWILIO_VALIDATE_SIGNATURES": "true",
            "PUBLIC_BASE_URL": public_base_url,
            "SPOOL_DIR": str(folder / "spool"),
            "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
        }
    )
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers)]
    command += ["-b", f"127.0.0.1:{port}", "--no-control-socket", target]
    server = Server(command, environment, folder / "gunicorn.log")
    try:
        wait_for_port(port, "gunicorn", seconds=60)
    except BaseException:
        server.stop(signal.SIGINT)
        raise
    return server
