"""The REST stand-in: requests held to Twilio's OpenAPI description, and their effects on
the switch (SMS, calls that ring, calls and queue members that move)."""

from __future__ import annotations

import io
import re
import wave
from typing import Any

import pytest
import requests

from telephony.simulator import Busy, Machine, NoAnswer, RestStandIn, Switch
from telephony.simulator.phones import Behaviour
from tests.simulator.conftest import ACCOUNT, CALLER, LINE, TOKEN, FakeApp

AGENT = "+15550000009"


def rest(stand_in: RestStandIn, method: str, path: str, **data: Any) -> requests.Response:
    """A request to the stand-in as Twilio's client sends it: form-encoded, basic auth."""
    url = f"{stand_in.base_url}/2010-04-01/Accounts/{ACCOUNT}/{path}"
    return requests.request(method, url, data=data, auth=(ACCOUNT, TOKEN), timeout=5)


def ring(stand_in: RestStandIn, **extra: Any) -> str:
    response = rest(
        stand_in,
        "POST",
        "Calls.json",
        To=AGENT,
        From=LINE,
        Url="http://localhost/ring",
        StatusCallback="http://localhost/ringing",
        Timeout="20",
        **extra,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["sid"])


def test_an_sms_reaches_the_phone(switch: Switch, stand_in: RestStandIn) -> None:
    rest(stand_in, "POST", "Messages.json", To=CALLER, From=LINE, Body="Your code is 482913")
    switch.wait(0)  # effects apply on the switch's thread
    assert switch.phone(CALLER).last_code() == "482913"


def test_a_call_rings_and_on_answering_fetches_its_url(
    switch: Switch, stand_in: RestStandIn, fake: FakeApp
) -> None:
    fake.documents["/ring"] = "<Response><Say>Hello agent</Say><Pause length='10'/></Response>"
    sid = ring(stand_in)
    switch.wait(0)
    [fetch] = fake.forms("/ring")
    assert (fetch["CallSid"], fetch["Direction"], fetch["To"]) == (sid, "outbound-api", AGENT)
    [status] = fake.forms("/ringing")  # only "completed" was asked for, by default
    assert (status["CallStatus"], status["CallDuration"]) == ("completed", str(1 + 10))


@pytest.mark.parametrize(("behaviour", "status"), [(NoAnswer(), "no-answer"), (Busy(), "busy")])
def test_a_call_nobody_answers(
    switch: Switch, stand_in: RestStandIn, fake: FakeApp, behaviour: Behaviour, status: str
) -> None:
    switch.phone(AGENT).behaviour = behaviour
    ring(stand_in)
    switch.wait(0)
    assert fake.forms("/ring") == []
    assert fake.forms("/ringing")[0]["CallStatus"] == status


def test_an_answering_machine_listens_then_hangs_up(
    switch: Switch, stand_in: RestStandIn, fake: FakeApp
) -> None:
    switch.phone(AGENT).behaviour = Machine(listens=20)
    fake.documents["/ring"] = (
        '<Response><Gather action="/key" timeout="8"><Say>Press 1</Say></Gather>'
        "<Redirect>/ring</Redirect></Response>"
    )
    ring(stand_in, StatusCallbackEvent=["initiated", "answered", "completed"])
    switch.wait(0)
    assert fake.forms("/key") == [] and len(fake.forms("/ring")) >= 2
    statuses = [form["CallStatus"] for form in fake.forms("/ringing")]
    assert statuses == ["queued", "in-progress", "completed"]


def test_a_dequeue_requests_the_enqueue_action_at_once_and_moves_the_caller(
    switch: Switch, stand_in: RestStandIn, fake: FakeApp
) -> None:
    fake.documents |= {
        "/incoming": '<Response><Enqueue action="/left" waitUrl="/wait">q</Enqueue></Response>',
        "/wait": "<Response><Play>https://x/m.mp3</Play></Response>",
        "/left": "<Response><Say>Not run</Say></Response>",
        "/moved": "<Response><Say>Moved</Say><Gather/></Response>",
    }
    caller = switch.caller(CALLER).dial()
    queue = fake.forms("/wait")[0]["QueueSid"]
    rest(stand_in, "POST", f"Queues/{queue}/Members/Front.json", Url="http://localhost/moved")
    switch.wait(0)
    [left] = fake.forms("/left")
    assert left["QueueResult"] == "redirected" and left["QueueSid"] == queue
    assert caller.text == "Moved" and not caller.queued  # the action's TwiML was not run
    assert rest(stand_in, "GET", f"Queues/{queue}.json").json()["current_size"] == 0


def test_a_live_call_moves_or_ends(switch: Switch, stand_in: RestStandIn, fake: FakeApp) -> None:
    fake.documents["/incoming"] = "<Response><Gather/></Response>"
    caller = switch.caller(CALLER).dial()
    twiml = "<Response><Say>New</Say><Gather/></Response>"
    rest(stand_in, "POST", f"Calls/{caller.call_sid}.json", Twiml=twiml)
    switch.wait(0)
    assert caller.text == "New"
    rest(stand_in, "POST", f"Calls/{caller.call_sid}.json", Status="completed")
    switch.wait(0)
    assert caller.hung_up and fake.forms("/status")[0]["CallStatus"] == "completed"


def test_twilios_description_refuses_a_call_without_to(stand_in: RestStandIn) -> None:
    response = rest(stand_in, "POST", "Calls.json", From=LINE, Url="http://localhost/ring")
    assert response.status_code == 400
    assert "To" in stand_in.take_errors()[0]


def test_an_unknown_queue_member_is_not_found(stand_in: RestStandIn) -> None:
    path = f"Queues/QU{'1' * 32}/Members/Front.json"
    response = rest(stand_in, "POST", path, Url="http://localhost/x")
    assert response.status_code == 404 and response.json()["code"] == 20404


def test_status_callbacks_come_for_the_events_asked_for_and_can_be_lost(
    switch: Switch, stand_in: RestStandIn, fake: FakeApp
) -> None:
    fake.documents["/ring"] = "<Response><Say>Hello agent</Say></Response>"
    ring(stand_in, StatusCallbackEvent=["ringing", "completed"])
    switch.wait(0)
    assert [form["CallStatus"] for form in fake.forms("/ringing")] == ["ringing", "completed"]
    switch.phone(AGENT).callbacks_lost = True  # Hotline was unreachable: Twilio gives up
    ring(stand_in, StatusCallbackEvent=["ringing", "completed"])
    switch.wait(0)
    assert len(fake.forms("/ring")) == 2 and len(fake.forms("/ringing")) == 2


# --- a recording's media, at the RecordingUrl <Record> gave -----------------------------


def recorded(switch: Switch, fake: FakeApp, seconds: int = 5) -> str:
    fake.documents["/incoming"] = '<Response><Record action="/vm"/></Response>'
    switch.caller(CALLER).dial().leave_message(duration=seconds)
    [form] = fake.forms("/vm")
    return form["RecordingUrl"]


def test_a_recording_is_served_as_wav_to_the_accounts_credentials(
    switch: Switch, stand_in: RestStandIn, fake: FakeApp
) -> None:
    url = recorded(switch, fake, seconds=5)
    assert re.fullmatch(
        rf"https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE\w{{32}}", url
    )
    local = stand_in.base_url + url.removeprefix("https://api.twilio.com")
    for media in (local, local + ".wav"):
        response = requests.get(media, auth=(ACCOUNT, TOKEN), timeout=5)
        assert response.status_code == 200 and response.headers["Content-Type"] == "audio/x-wav"
        with wave.open(io.BytesIO(response.content)) as audio:
            assert audio.getnframes() == 5 * audio.getframerate()
    assert stand_in.take_errors() == []


def test_a_recordings_media_needs_the_account_sid_and_auth_token(
    switch: Switch, stand_in: RestStandIn, fake: FakeApp
) -> None:
    local = stand_in.base_url + recorded(switch, fake).removeprefix("https://api.twilio.com")
    assert requests.get(local, timeout=5).status_code == 400
    assert requests.get(local, auth=(ACCOUNT, "wrong"), timeout=5).status_code == 400
    other = "AC" + "b2" * 16
    elsewhere = local.replace(ACCOUNT, other)
    assert len(stand_in.take_errors()) == 2
    # Another account has no such recording.
    assert requests.get(elsewhere, auth=(other, TOKEN), timeout=5).status_code == 404


def test_an_unknown_recording_is_not_found_and_mp3_is_not_kept(
    switch: Switch, stand_in: RestStandIn, fake: FakeApp
) -> None:
    url = recorded(switch, fake)
    unknown = rest(stand_in, "GET", "Recordings/RE" + "9" * 32)
    assert unknown.status_code == 404 and unknown.json()["code"] == 20404
    local = stand_in.base_url + url.removeprefix("https://api.twilio.com")
    assert requests.get(local + ".mp3", auth=(ACCOUNT, TOKEN), timeout=5).status_code == 400
    assert "WAV only" in stand_in.take_errors()[0]
