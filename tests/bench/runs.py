"""A bench script run by a test: its output captured, and on a timeout nothing it
started left behind (a leftover gunicorn or PostgreSQL cluster would hold ports and
memory, and slow every test after it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.serving.shipped import ROOT

# How long the script has to stop its servers and clusters once interrupted.
CLEAN_UP_SECONDS = 60


def run_bench(script: str, *options: str, timeout: int) -> subprocess.CompletedProcess[str]:
    """``bench/<script> <options>`` in a process group of its own. Past ``timeout`` it is
    interrupted (SIGINT: its own context managers stop what it started), then the group
    is killed, and the test fails saying so."""
    command = [sys.executable, str(ROOT / "bench" / script), *options]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=CLEAN_UP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        pytest.fail(f"bench/{script} ran over {timeout} s; its last output:\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
