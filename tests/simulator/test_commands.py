"""``flask simulate`` against a server on loopback: the fake TwiML app for its own
behaviour, and Hotline itself for the scripted agent."""

from __future__ import annotations

import shlex
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from pydantic import SecretStr
from werkzeug.serving import make_server

from app import create_app
from settings import Settings
from telephony.simulator.commands import bp
from tests.demo import DEMO, customer
from tests.simulator.conftest import ACCOUNT, TOKEN, FakeApp

GREETING = (
    '<Response><Gather numDigits="1" action="/voice/menu">'
    '<Say language="en-US" voice="Polly.Joanna">Press 1</Say></Gather></Response>'
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def simulator(settings: object) -> FlaskCliRunner:
    """An app with only the simulator's blueprint and the settings it reads."""
    app = Flask("simulate")
    app.extensions["settings"] = settings
    app.register_blueprint(bp)
    return app.test_cli_runner()


@pytest.fixture
def server(fake: FakeApp) -> Iterator[str]:
    fake.documents |= {"/voice/incoming": GREETING, "/voice/menu": "<Response><Hangup/></Response>"}
    yield from serve(fake.flask())


@pytest.fixture
def cli() -> FlaskCliRunner:
    return simulator(
        SimpleNamespace(
            twilio_auth_token=SecretStr(TOKEN),
            public_base_url=None,
            hotline_number="+15550000001",
            twilio_account_sid=ACCOUNT,
            twilio_api_base_url=f"http://127.0.0.1:{free_port()}",
        )
    )


def test_a_scripted_call_prints_what_is_said_and_ends_well(
    cli: FlaskCliRunner, server: str
) -> None:
    result = cli.invoke(args=["simulate", "--server", server, "--keys", "1"])
    assert result.exit_code == 0, result.output
    assert "caller  [en-US Polly.Joanna] Press 1" in result.output
    assert "REST stand-in on http://127.0.0.1:" in result.output


def test_a_step_nobody_listens_for_fails_clearly(cli: FlaskCliRunner, server: str) -> None:
    result = cli.invoke(args=["simulate", "--server", server, "--keys", "1,2"])
    assert result.exit_code != 0
    assert "step 2 '2': the call had already ended" in result.output


def test_an_error_from_the_server_fails_the_run(
    cli: FlaskCliRunner, server: str, fake: FakeApp
) -> None:
    fake.documents["/voice/menu"] = (500, "text/html", "Internal Server Error")
    fake.documents["/voice/fallback"] = "<Response><Say>Sorry, a fault.</Say></Response>"
    result = cli.invoke(args=["simulate", "--server", server, "--keys", "1"])
    assert result.exit_code != 0
    assert "Sorry, a fault." in result.output  # Twilio asked the number's Fallback URL
    assert "Hotline answered with an error Twilio would not accept: 11200" in result.output


def test_no_server_says_what_to_start(cli: FlaskCliRunner) -> None:
    result = cli.invoke(args=["simulate", "--server", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code != 0 and "flask --app app run" in result.output


def test_interactive_takes_a_line_at_a_time(cli: FlaskCliRunner, server: str) -> None:
    result = cli.invoke(args=["simulate", "--server", server], input="help\n1\n")
    assert result.exit_code == 0, result.output
    assert "say: words" in result.output and "Press 1" in result.output


def call_hotline(settings: Settings, app: Flask, args: list[str]) -> Result:
    """``flask simulate ARGS`` against Hotline served on loopback, its REST base URL where
    the command's stand-in for Twilio's API listens."""
    port = free_port()
    local = settings.model_copy(update={"twilio_api_base_url": f"http://127.0.0.1:{port}"})
    hotline = create_app(local)
    hotline.extensions["clock"] = app.extensions["clock"]
    for url in serve(hotline):
        result = simulator(local).invoke(args=["simulate", "--server", url, *args])
    hotline.extensions["db"].engine.dispose()
    return result


@pytest.mark.usefixtures("demo")
def test_the_scripted_agent_takes_the_caller_who_then_rates(settings: Settings, app: Flask) -> None:
    """The whole demo against Hotline: caller queues, the agent calls in, takes and accepts
    the caller, talks, hangs up; the caller hears the rating prompt and rates."""
    wang = customer(language="zh")
    fang = next(agent for agent in DEMO["agents"] if agent["id"] == "A04")
    result = call_hotline(
        settings,
        app,
        [
            "--from",
            wang["phone"],
            "--keys",
            f"1,#,{wang['pin']},2,0,5",
            "--agent",
            f"{fang['phone']}:{fang['pin']}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "agent   [cmn-CN Polly.Zhiyu] 已验证客户，王小明" in result.output
    assert "请为本次服务评价" in result.output and "感谢您的来电" in result.output


@pytest.mark.usefixtures("demo")
def test_the_readme_quick_start_call_is_verified_answered_and_taken_by_an_agent(
    settings: Settings, app: Flask
) -> None:
    """The command the README tells a new user to run, exactly as written there."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [command] = [line for line in readme.splitlines() if line.startswith("./dev call --")]
    result = call_hotline(settings, app, shlex.split(command)[2:])
    assert result.exit_code == 0, result.output
    said = result.output
    assert "Thank you, you are verified." in said
    assert "Your latest top-up" in said and "300 yuan" in said  # the demo data's answer
    # The agent hears who is waiting and why; the English name in the English voice.
    assert "[cmn-CN Polly.Zhiyu] 已验证客户，\nagent   [en-US Polly.Joanna] Emily Chen" in said
    conference = [line for line in said.splitlines() if "joins conference" in line]
    assert len(conference) == 2 and conference[0].split()[-1] == conference[1].split()[-1]
    assert "Please rate this call" in said and "Thank you for calling" in said
