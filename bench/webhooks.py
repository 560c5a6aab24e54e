"""How much a Hotline webhook costs next to the least a signed TwiML webhook can cost.

Runs whole verified calls (greeting, language, PIN, two menus, an answer from
the account, the queue and its first wait document, the caller hanging up)
through the phone simulator into the Flask app on SQLite, and as many requests
against a bare Flask route that only checks the signature and returns a fixed
TwiML document, sent by the same simulator. Prints both and their ratio; the
machine's speed cancels out of the ratio, so compare ratios between runs, not times.

    .venv/bin/python bench/webhooks.py [--calls 50]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_server  # noqa: E402
from ops.commands import DEMO_FILE  # noqa: E402
from settings import Settings  # noqa: E402
from telephony.simulator import FlaskTransport, Number, Switch, hotline_numbers  # noqa: E402

TOKEN = "bench-token"
HOTLINE = "+8640012345678"


def hotline_calls(calls: int, folder: Path) -> tuple[float, int]:
    """Seconds taken, and the webhooks the simulator sent."""
    settings = Settings.model_validate(  # these values only, whatever the environment says
        {
            "database_url": f"sqlite:///{folder / 'bench.db'}",
            "twilio_auth_token": TOKEN,
            "hotline_secret_key": "bench-key-not-secret-but-long-enough",
        }
    )
    app = create_server(settings)
    result = app.test_cli_runner().invoke(args=["import-data", str(DEMO_FILE)])
    assert result.exit_code == 0, result.output
    switch = Switch(FlaskTransport(app), auth_token=TOKEN, numbers=hotline_numbers(HOTLINE))
    demo = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    who = next(record for record in demo["customers"] if record["language"] == "zh")
    started = time.perf_counter()
    for _ in range(calls):
        call = switch.caller(who["phone"]).dial().press("1").press(who["pin"])
        call.press("2").press("3").press("0").hang_up()
    return time.perf_counter() - started, switch.webhooks_sent


def bare_requests(count: int) -> float:
    app = Flask("bare")
    validator = RequestValidator(TOKEN)

    @app.post("/voice")
    def voice() -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        assert validator.validate(request.url, request.form, signature)
        response = VoiceResponse()
        response.say("hello", language="en-US", voice="Polly.Joanna")
        return Response(str(response), mimetype="text/xml")

    switch = Switch(FlaskTransport(app), auth_token=TOKEN, numbers=[Number(HOTLINE, "/voice")])
    call = switch.caller()
    started = time.perf_counter()
    for _ in range(count):
        call.post("/voice", {"Digits": "1"})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="whole calls to run")
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as folder:
        hotline, webhooks = hotline_calls(calls, Path(folder))
    baseline = bare_requests(webhooks)
    per_step = hotline / webhooks * 1000
    per_bare = baseline / webhooks * 1000
    print(f"hotline webhook: {per_step:.2f} ms   bare signed TwiML route: {per_bare:.2f} ms")
    print(f"ratio: {hotline / baseline:.1f}x the bare route ({webhooks} webhooks each)")


if __name__ == "__main__":
    main()
