"""Two real Hotline server processes on one PostgreSQL: two agents asking for the next
caller at the same moment, one on each server, never both get the same caller."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Call
from tests.conftest import SECRET_KEY, TOKEN
from tests.demo import DEMO, customer
from tests.phone import ACCOUNT_SID, HOTLINE, PhoneCall
from tests.twilio_mock import TwilioApiMock

pytestmark = pytest.mark.usefixtures("demo")

ROOT = Path(__file__).resolve().parents[2]
AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
WANG = customer(language="zh")


class HttpClient:
    """What PhoneCall needs of a Flask test client, over real HTTP."""

    def post(self, url: str, data: dict[str, str], headers: dict[str, str]) -> Any:
        response = requests.post(url, data=data, headers=headers, timeout=20)
        response.get_data = lambda as_text=True: response.text  # type: ignore[attr-defined]
        response.mimetype = response.headers["Content-Type"].split(";")[0]  # type: ignore[attr-defined]
        return response


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def servers(database_url: str, twilio_api: TwilioApiMock) -> Iterator[list[str]]:
    environment = os.environ | {
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "HOTLINE_SECRET_KEY": SECRET_KEY,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "HOTLINE_NUMBER": HOTLINE,
        "TWILIO_API_BASE_URL": twilio_api.base_url,
        "PUBLIC_BASE_URL": "",
        "TWILIO_VALIDATE_SIGNATURES": "true",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "a Hotline server did not start"
                    time.sleep(0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_agents_on_two_servers_never_share_a_caller(
    servers: list[str], db: Session, twilio_api: TwilioApiMock
) -> None:
    db.add(
        Call(
            call_sid="CA" + "9" * 32,
            caller=WANG["phone"],
            stage="queued",
            queue="funds",
            language="zh",
            verified=True,
            customer_id=WANG["id"],
            queue_sid="QU" + "1" * 32,
            queued_at=datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
            claimed_by_caller_id=True,
            verification_failures=0,
            menu_misses=0,
            turn=3,
        )
    )
    db.commit()
    agents = []
    for base, agent in zip(servers, (AGENTS["A01"], AGENTS["A04"]), strict=True):
        leg = PhoneCall(HttpClient(), TOKEN, caller=agent["phone"], base_url=base)  # type: ignore[arg-type]
        leg.dial("/agents/incoming").press(agent["pin"])
        agents.append(leg)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def take_and_accept(leg: PhoneCall) -> None:
        try:
            start.wait()
            leg.press("1")  # take the next caller now
            if leg.gather is not None and "/agents/answer" in leg.gather.action:
                start_accept.wait()
                leg.press("1")  # accept
            else:
                start_accept.wait()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    start_accept = threading.Barrier(2)
    threads = [threading.Thread(target=take_and_accept, args=(leg,)) for leg in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    whispered = [leg for leg in agents if "王小明" in " ".join(d for d in leg.documents[-2:])]
    assert len(whispered) == 1
    assert len(twilio_api.dequeues()) == 1
    connected = [leg for leg in agents if leg.conference == "hotline-CA" + "9" * 32]
    assert connected == whispered
    db.rollback()
    row = db.scalars(select(Call).where(Call.call_sid == "CA" + "9" * 32)).one()
    assert row.stage == "connected"
    assert row.agent_id in ("A01", "A04")
