"""The serving timeouts, in the order that gets Twilio an answer (or a 502/504, which
sends it to the Fallback URL) before the 15 s it waits: nginx's waits for clients and
for gunicorn, and gunicorn's for a stuck worker."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from tests.serving.shipped import ROOT, SHIPPED, TWILIO_WAIT


def nginx_seconds(directive: str) -> int:
    found = re.findall(rf"^\s*{directive}\s+(\d+)s;", SHIPPED.read_text(), re.MULTILINE)
    assert len(found) == 1, f"{SHIPPED} should set {directive} once, in seconds"
    return int(found[0])


def test_a_stuck_worker_is_replaced_before_nginx_and_twilio_give_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # no directory made
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert gunicorn["worker_class"] == "sync"
    assert gunicorn["bind"] == ["127.0.0.1:8000"]  # nginx's upstream, loopback only
    assert gunicorn["timeout"] < nginx_seconds("proxy_read_timeout") < TWILIO_WAIT


def test_nginx_waits_for_no_client_long_enough_to_matter() -> None:
    for directive in ("client_header_timeout", "client_body_timeout", "proxy_send_timeout"):
        assert nginx_seconds(directive) < TWILIO_WAIT
    text = SHIPPED.read_text()
    assert "proxy_request_buffering on;" in text and "proxy_buffering on;" in text
