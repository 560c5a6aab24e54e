"""How much a Hotline webhook costs next to the least a signed TwiML webhook can cost.

Runs whole verified calls (greeting, language, PIN, two menus, an answer from
the account, the queue) through the Flask test client on SQLite, and the same
number of requests against a bare Flask route that only checks the signature
and returns a fixed TwiML document. Prints both and their ratio; the machine's
speed cancels out of the ratio, so compare ratios between runs, not times.

    .venv/bin/python bench/webhooks.py [--calls 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from ops.commands import DEMO_FILE  # noqa: E402
from settings import Settings  # noqa: E402
from tests.demo import customer  # noqa: E402
from tests.phone import PhoneCall, sign  # noqa: E402

TOKEN = "bench-token"
STEPS_PER_CALL = 7  # dial, language, PIN, menu 2, option 3 (an answer), 0 (queue), end


def hotline_calls(calls: int, folder: Path) -> float:
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{folder / 'bench.db'}",  # type: ignore[call-arg]
        twilio_auth_token=TOKEN,
        hotline_secret_key="bench",  # type: ignore[arg-type]
        twilio_validate_signatures=True,
    )
    app = create_app(settings)
    result = app.test_cli_runner().invoke(args=["import-data", str(DEMO_FILE)])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    who = customer(language="zh")
    started = time.perf_counter()
    for _ in range(calls):
        call = PhoneCall(client, TOKEN, caller=who["phone"]).dial().press("1").press(who["pin"])
        call.press("2").press("3").press("0").end()
    return time.perf_counter() - started


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

    client = app.test_client()
    params = PhoneCall(client, TOKEN).params() | {"Digits": "1"}
    signature = sign(TOKEN, "http://localhost/voice", params)
    started = time.perf_counter()
    for _ in range(count):
        assert (
            client.post(
                "/voice", data=params, headers={"X-Twilio-Signature": signature}
            ).status_code
            == 200
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="whole calls to run")
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as folder:
        hotline = hotline_calls(calls, Path(folder))
    baseline = bare_requests(calls * STEPS_PER_CALL)
    per_step = hotline / (calls * STEPS_PER_CALL) * 1000
    per_bare = baseline / (calls * STEPS_PER_CALL) * 1000
    print(f"hotline webhook: {per_step:.2f} ms   bare signed TwiML route: {per_bare:.2f} ms")
    print(f"ratio: {hotline / baseline:.1f}x the bare route")


if __name__ == "__main__":
    main()
