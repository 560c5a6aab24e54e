"""Values a signer could send that Twilio never would (issue 11, item 6): NUL bytes,
over-long or missing SIDs, numbers of hundreds of digits, recording URLs that are not
Twilio's. Each is cut, clamped or dropped at the edge (telephony.params), every webhook
answers TwiML valid where Twilio runs it, and nothing of them is stored or requested."""

from __future__ import annotations

import logging
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from models import Call, Voicemail
from telephony.params import parse_voice
from telephony.simulator.twiml import Context, check
from telephony.simulator.webhooks import sign
from tests.calls.test_any_input import webhook_paths
from tests.conftest import BASE_URL, TOKEN
from tests.demo import DEMO, customer
from tests.queueing.test_agent_line import signed_in, waiting

WANG = customer(language="zh")
LINA = next(agent for agent in DEMO["agents"] if agent["id"] == "A01")
SID = "CA" + "ab" * 16
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC" + "1" * 32 + "/Recordings/RE" + "2" * 32
# Twilio's regional API hosts, as its Ireland and Australia edges give them.
REGIONAL = RECORDING.replace("api.twilio.com", "api.dublin.ie1.twilio.com")
NOT_TWILIOS = [
    "javascript:alert(1)",
    "file:///etc/passwd",
    "http://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
    "https://api.twilio.com.evil.example/RE1",
    "https://user@api.twilio.com/RE1",
    "https://evil.example/api.twilio.com/RE1",
    "//api.twilio.com/RE1",
    "https://api.twilio.com:8443/RE1",
]
HOSTILE = {
    "Digits": "1\x002",
    "SpeechResult": "退\x00款",
    "Confidence": "1e400",
    "CallStatus": "completed\x00",
    "CallDuration": str(10**30),
    "QueueResult": "leave\x00",
    "QueueTime": "9" * 400,
    "AvgQueueTime": "9" * 400,
    "QueuePosition": "-" + "9" * 400,
    "QueueSid": "QU" + "0" * 200,
    "DialCallStatus": "\x00",
    "DialCallDuration": str(10**30),
    "RecordingUrl": "file:///etc/passwd",
    "RecordingSid": "RE" + "\x00" * 32,
    "RecordingDuration": "9" * 400,
    "StatusCallbackEvent": "participant-leave\x00",
    "ConferenceSid": "CF" + "f" * 300,
    "FriendlyName": "\x00" * 5000,
    "Timestamp": "\x00",
    "ErrorCode": "9" * 400,
    "ErrorUrl": "javascript:alert(1)",
    "Direction": "inbound\x00",
}


def form(**values: str) -> MultiDict[str, str]:
    return MultiDict(values)


def test_values_are_cut_clamped_or_dropped_at_the_edge() -> None:
    params = parse_voice(form(**HOSTILE, CallSid=SID + "\x00", From="+86\x00138"))
    assert params.call_sid == SID and params.from_ == "+86138"
    assert "\x00" not in repr(params)
    assert params.digits == "12" and params.speech_result == "退款"
    assert params.call_duration is None and params.queue_time is None
    assert params.recording_duration is None and params.confidence is None
    assert params.queue_sid == params.conference_sid == params.recording_sid == ""
    assert params.recording_url == ""
    for sid in ("", "CA" + "f" * 33, "CA" + "g" * 32, "QU" + "f" * 32, "CA12"):
        assert parse_voice(form(CallSid=sid)).call_sid == ""
    assert parse_voice(form()).call_sid == ""
    # A call's status goes into a column of 16: a longer "status" is no status of Twilio's.
    assert parse_voice(form(CallStatus="9" * 30, QueueResult="x" * 40)).call_status == ""
    assert parse_voice(form(QueueResult="x" * 40)).queue_result == ""
    assert parse_voice(form(CallStatus="in-progress")).call_status == "in-progress"
    kept = parse_voice(form(QueueSid="QU" + "e" * 32, CallDuration="61", QueueTime="0"))
    assert (kept.queue_sid, kept.call_duration, kept.queue_time) == ("QU" + "e" * 32, 61, 0)


@pytest.mark.parametrize("url", NOT_TWILIOS)
def test_only_twilios_https_recording_urls_are_taken(url: str) -> None:
    assert parse_voice(form(RecordingUrl=url)).recording_url == ""


@pytest.mark.parametrize("url", [RECORDING, REGIONAL, RECORDING + ".mp3"])
def test_twilios_recording_urls_are_taken(url: str) -> None:
    assert parse_voice(form(RecordingUrl=url)).recording_url == url


def post(client: FlaskClient, path: str, values: dict[str, str]) -> ElementTree.Element:
    url = BASE_URL + path
    response = client.post(
        url, data=values, headers={"X-Twilio-Signature": sign(TOKEN, url, values)}
    )
    assert response.status_code == 200 and response.mimetype == "text/xml", path
    document = ElementTree.fromstring(response.get_data())
    assert document.tag == "Response"
    return document


@pytest.mark.usefixtures("demo")
def test_every_webhook_answers_hostile_values_without_failing(
    app: Flask, client: FlaskClient, phone, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caller, agent = waiting(phone, WANG, ("2",)), signed_in(phone, LINA)
    for path in webhook_paths(app):
        for sid in (caller.call_sid, agent.call_sid, None, "CA" + "f" * 300, "\x00"):
            values = {**HOSTILE, "From": WANG["phone"] + "\x00", "To": "+8640012345678"}
            if sid is not None:
                values["CallSid"] = sid
            caplog.clear()
            with caplog.at_level(logging.ERROR):
                post(client, path, values)
            if not path.startswith("/voice/fallback"):  # the failure path says it is one
                assert [r.getMessage() for r in caplog.records] == [], (path, sid)
    db.rollback()
    assert db.scalars(select(Voicemail)).all() == []
    assert all(len(sid) == 34 for sid in db.scalars(select(Call.call_sid)))


@pytest.mark.usefixtures("demo")
def test_a_hostile_recording_url_is_never_kept(
    app: Flask, client: FlaskClient, phone, db: Session
) -> None:
    call = phone(WANG["phone"]).dial()
    for path in ("/voice/fallback/message", "/voice/queue/voicemail", "/voice/fallback"):
        for url in NOT_TWILIOS[:2]:
            values = {"CallSid": call.call_sid, "From": WANG["phone"], "RecordingUrl": url}
            post(client, path, {**values, "RecordingSid": "RE" + "3" * 32})
    db.rollback()
    assert db.scalars(select(Voicemail)).all() == []
    spool = app.extensions["settings"].spool_dir
    assert not spool.exists() or list(spool.iterdir()) == []


WAIT_DOCUMENTS = [
    ("/voice/queue/wait", "queueing.routes.waiting.wait_document", Context.WAIT),
    ("/voice/queue/callback", "queueing.routes.waiting.take_callback_key", Context.WAIT),
    ("/voice/queue/room", "queueing.routes.conference.caller_alone", Context.CONFERENCE_WAIT),
]


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(("path", "inside", "context"), WAIT_DOCUMENTS)
def test_a_failing_wait_document_answers_only_what_twilio_runs_there(
    client: FlaskClient,
    phone,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    inside: str,
    context: Context,
) -> None:
    """An apology, never <Enqueue>, <Dial> or <Record>: Twilio refuses them in a wait
    document (twilio.com/docs/voice/twiml/enqueue, waitUrl; errors/13238 for a room's)."""
    caller = waiting(phone, WANG, ("2",))

    def fails(*_: object) -> None:
        raise RuntimeError("inside the wait document")

    monkeypatch.setattr(inside, fails)
    document = post(
        client, path, {"CallSid": caller.call_sid, "From": WANG["phone"], "Digits": "1"}
    )
    assert list(document), "silence tells the caller nothing"
    for verb in document:
        check(verb, context)


@pytest.mark.usefixtures("demo")
def test_no_dequeue_goes_out_without_a_queue_sid(phone, twilio_api, db: Session) -> None:
    caller = waiting(phone, WANG, ("2",))
    db.execute(update(Call).where(Call.call_sid == caller.call_sid).values(queue_sid=None))
    agent = signed_in(phone, LINA).press("1").press("1")  # the next caller; take them
    assert "该客户已被其他坐席接听或已挂断" in agent.text or "No caller" in agent.text
    assert twilio_api.dequeues() == []
    db.rollback()
    row = db.scalars(select(Call).where(Call.call_sid == caller.call_sid)).one()
    assert row.stage == "queued" and row.agent_id is None  # there for the next agent
