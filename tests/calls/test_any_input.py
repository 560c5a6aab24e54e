"""Whatever Twilio or a caller can send to any webhook, at any point of a call, the
answer is well-formed TwiML and nothing inside fails: no request ends on the failure
path (SPEC §3: any parameter values, repeated or out-of-order requests)."""

from __future__ import annotations

import logging
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telephony.simulator import Leg
from telephony.simulator.webhooks import sign
from tests.conftest import BASE_URL, TOKEN
from tests.demo import DEMO, customer
from tests.queueing.test_agent_line import signed_in, waiting

pytestmark = pytest.mark.usefixtures("demo")

WANG = customer(language="zh")
LINA = next(agent for agent in DEMO["agents"] if agent["id"] == "A01")

ODD = st.sampled_from(
    ["", "0", "1", "9", "*", "#", "1#", "-1", "0.2", "0.99", "abc", "9" * 30, "冻结", "two"]
)
# What a signer could send and Twilio never would (issue 11): NUL bytes, numbers of
# hundreds of digits, SIDs of the wrong shape, URLs that are not Twilio's.
HOSTILE = st.sampled_from(
    [
        "\x00", "1\x00", "9" * 400, str(10**30), "1e400", "nan", "QU" + "0" * 200,
        "CF" + "f" * 300, "javascript:alert(1)", "file:///etc/passwd", "x" * 5000,
    ]
)  # fmt: skip
HOSTILE_SIDS = st.sampled_from(["", "\x00", "CA" + "f" * 300, "CA" + "g" * 32])
TWILIO_WORDS = st.sampled_from(
    [
        "completed", "busy", "no-answer", "failed", "canceled", "in-progress", "ringing",
        "bridged", "hangup", "leave", "redirected", "queue-full", "system-error",
        "participant-join", "participant-leave", "conference-start", "conference-end",
        "answered", "Tue, 24 Nov 2026 02:00:05 +0000", "outbound-api", "inbound",
    ]
)  # fmt: skip
PARAMETERS = [
    "Digits", "SpeechResult", "Confidence", "CallStatus", "CallDuration", "QueueResult",
    "QueueTime", "QueueSid", "DialCallStatus", "DialCallDuration", "RecordingUrl",
    "RecordingSid", "RecordingDuration", "StatusCallbackEvent", "ConferenceSid",
    "FriendlyName", "Timestamp", "ErrorCode", "ErrorUrl", "Direction", "AvgQueueTime",
]  # fmt: skip
forms = st.dictionaries(
    st.sampled_from(PARAMETERS), st.one_of(ODD, TWILIO_WORDS, HOSTILE), max_size=6
)


def webhook_paths(app: Flask) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.rule.startswith(("/voice", "/agents"))
    )


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_request_to_any_webhook_gets_twiml_and_fails_nothing(
    app: Flask, client: FlaskClient, phone, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    calls: list[Leg] = app.extensions.setdefault("test_calls", [])
    fresh = data.draw(st.integers(0, 40)) == 0
    if fresh or not calls:
        # Now and then a fresh caller waiting and an agent at the agent line's menu, so
        # that odd requests meet calls early in their life as well as late.
        calls[:] = [waiting(phone, WANG, ("2",)), signed_in(phone, LINA)]
    path = data.draw(st.sampled_from(webhook_paths(app)))
    form = data.draw(forms)
    whose = data.draw(st.sampled_from([*calls, None]))
    form["CallSid"] = (
        whose.call_sid if whose else data.draw(HOSTILE_SIDS | st.just("CA" + "f" * 32))
    )
    form["From"] = whose.caller if whose else "anonymous"
    form["To"] = whose.to if whose else "+8640012345678"
    query = data.draw(st.sampled_from(["", "?turn=1", "?turn=999", "?caller=1", "?caller=x"]))
    url = BASE_URL + path + query
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        response = client.post(
            url, data=form, headers={"X-Twilio-Signature": sign(TOKEN, url, form)}
        )
    assert response.status_code == 200, (path, form, response.get_data(as_text=True))
    assert response.mimetype == "text/xml"
    assert ElementTree.fromstring(response.get_data()).tag == "Response"
    if not path.startswith("/voice/fallback"):  # the failure path itself, which says so
        failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert failures == [], (path, query, form)
