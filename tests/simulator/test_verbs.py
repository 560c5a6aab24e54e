"""A leg follows TwiML verb by verb as Twilio does: speech, keys, silence, redirects,
recordings, the end of a document, and what Twilio does with a reply it cannot use."""

from __future__ import annotations

import pytest

from telephony.simulator import Said, Switch, TwilioWouldFail
from tests.simulator.conftest import CALLER, LINE, TOKEN, FakeApp

MENU = (
    '<Response><Gather action="/menu" numDigits="1" timeout="7">'
    '<Say language="en-US" voice="Polly.Joanna">Press 1</Say></Gather>'
    "<Say>Nothing?</Say><Redirect>/incoming</Redirect></Response>"
)


def test_every_request_carries_twilios_parameters_signed(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = "<Response><Hangup/></Response>"
    call = switch.caller(CALLER).dial()
    [first] = fake.forms("/incoming")  # the fake app checked the signature
    assert first == call.params() | {"CallStatus": "ringing"}
    assert {"CallSid", "AccountSid", "From", "Caller", "To", "Called", "Direction"} <= set(first)
    assert first["To"] == LINE and first["Direction"] == "inbound"


def test_say_keeps_language_and_voice_and_takes_time(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = MENU
    call = switch.caller(CALLER).dial()
    assert call.heard == [Said("Press 1", "en-US", "Polly.Joanna")]
    assert call.gather is not None and call.gather.action == "http://localhost/menu"
    assert switch.clock.now == switch.durations.say("Press 1")


def test_keys_beyond_num_digits_are_lost(switch: Switch, fake: FakeApp) -> None:
    fake.documents |= {"/incoming": MENU, "/menu": "<Response><Say>Bye</Say></Response>"}
    switch.caller(CALLER).dial().press("123")
    assert fake.forms("/menu")[0]["Digits"] == "1"
    assert "FinishedOnKey" not in fake.forms("/menu")[0]


def test_the_finish_key_ends_input_and_is_reported(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = '<Response><Gather action="/pin"/></Response>'
    switch.caller(CALLER).dial().press("2468#99")
    [form] = fake.forms("/pin")
    assert (form["Digits"], form["FinishedOnKey"]) == ("2468", "#")


def test_silence_goes_on_to_the_next_verb_after_the_timeout(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = MENU
    call = switch.caller(CALLER).dial()
    before = switch.clock.now
    call.silence()
    assert call.heard[0].text == "Nothing?" and fake.forms("/menu") == []
    assert switch.clock.now >= before + 7
    assert len(fake.forms("/incoming")) == 2  # the Redirect


def test_only_the_finish_key_is_silence_too(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = '<Response><Gather action="/pin"/><Say>Again</Say></Response>'
    call = switch.caller(CALLER).dial().press("#")
    assert call.text == "Again" and fake.forms("/pin") == []


def test_action_on_empty_result_requests_the_action(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = (
        '<Response><Gather action="/pin" actionOnEmptyResult="true"/></Response>'
    )
    switch.caller(CALLER).dial().silence()
    assert "Digits" not in fake.forms("/pin")[0]


def test_speech_needs_a_gather_that_listens_for_it(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = '<Response><Gather input="dtmf speech" action="/s"/></Response>'
    switch.caller(CALLER).dial().say("refund", confidence=0.8)
    [form] = fake.forms("/s")
    assert (form["SpeechResult"], form["Confidence"]) == ("refund", "0.8")
    fake.documents["/incoming"] = '<Response><Gather action="/s"/></Response>'
    with pytest.raises(AssertionError, match="keys only"):
        switch.caller(CALLER).dial().say("refund")


def test_the_end_of_a_document_hangs_up_and_posts_the_status(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = '<Response><Say>Hi</Say><Pause length="4"/></Response>'
    call = switch.caller(CALLER).dial()
    assert call.hung_up and call.status == "completed"
    [status] = fake.forms("/status")
    assert status["CallStatus"] == "completed"
    assert int(status["CallDuration"]) == switch.durations.say("Hi") + 4


def test_play_loops_and_takes_a_hold_track_each(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = '<Response><Play loop="2">https://x/m.mp3</Play></Response>'
    call = switch.caller(CALLER).dial()
    assert call.played == ["https://x/m.mp3"] * 2
    assert switch.clock.now == 2 * switch.durations.play_seconds


def test_a_recording_posts_its_action(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = '<Response><Record action="/vm" maxLength="30"/></Response>'
    switch.caller(CALLER).dial().leave_message(duration=45)
    [form] = fake.forms("/vm")
    assert form["RecordingDuration"] == "30" and form["Digits"] == "#"
    assert form["RecordingUrl"].endswith(f"/Recordings/{form['RecordingSid']}")


def test_an_empty_recording_does_not_request_the_action(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = '<Response><Record action="/vm"/><Say>No message</Say></Response>'
    call = switch.caller(CALLER).dial().silence()
    assert fake.forms("/vm") == [] and call.text == "No message" and call.hung_up


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ((500, "text/html", "oops"), "11200"),
        ((200, "application/json", "{}"), "12300"),
        ((200, "text/xml", "<Response><Say>"), "12100"),
    ],
)
def test_a_reply_twilio_cannot_use_fails_a_strict_run(
    switch: Switch, fake: FakeApp, reply: tuple[int, str, str], code: str
) -> None:
    fake.documents["/incoming"] = reply
    with pytest.raises(TwilioWouldFail, match=code):
        switch.caller(CALLER).dial()


def test_otherwise_the_caller_hears_twilios_application_error(
    switch: Switch, fake: FakeApp
) -> None:
    switch.strict = False
    fake.documents["/incoming"] = (500, "text/html", "oops")
    call = switch.caller(CALLER).dial()
    assert "an application error has occurred" in call.text and call.hung_up
    assert switch.errors and "11200" in switch.errors[0]


def test_a_verb_twilio_does_not_allow_there_is_an_error(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = "<Response><Leave/></Response>"  # not in a queue
    with pytest.raises(TwilioWouldFail, match="Leave"):
        switch.caller(CALLER).dial()


def test_a_wrong_signature_is_what_the_app_refuses(fake: FakeApp) -> None:
    from telephony.simulator import FlaskTransport, Number

    wrong = Switch(
        FlaskTransport(fake.flask()), auth_token=TOKEN + "x", numbers=[Number(LINE, "/incoming")]
    )
    with pytest.raises(AssertionError):
        wrong.caller(CALLER).dial()


@pytest.mark.parametrize(
    ("attributes", "code"),
    [
        ('language="zh-CN" speechModel="experimental_utterances"', "13331"),  # no Mandarin
        ('language="cmn-Hans-CN" speechModel="numbers_and_commands"', "13331"),  # nova-2: zh-CN
        ('language="cmn-Hans-CN" speechModel="default" speechTimeout="auto"', "13335"),
        ('language="en-US" speechModel="whisper"', "13334"),
    ],
)
def test_a_speech_gather_twilio_would_refuse_fails_the_test(
    switch: Switch, fake: FakeApp, attributes: str, code: str
) -> None:
    fake.documents["/incoming"] = (
        f'<Response><Gather input="dtmf speech" action="/s" {attributes}/></Response>'
    )
    with pytest.raises(TwilioWouldFail, match=code):
        switch.caller(CALLER).dial()


def test_a_failing_speech_gather_goes_on_past_it_when_not_strict(
    switch: Switch, fake: FakeApp
) -> None:
    switch.strict = False
    fake.documents["/incoming"] = (
        '<Response><Gather input="speech" language="xx-XX" action="/s"/><Say>After</Say></Response>'
    )
    call = switch.caller(CALLER).dial()
    assert call.text == "After" and "13331" in switch.errors[0]


def test_mandarin_and_english_menus_as_shipped_are_accepted(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = (
        '<Response><Gather input="dtmf speech" action="/s" language="cmn-Hans-CN"'
        ' speechModel="default" speechTimeout="2"/></Response>'
    )
    switch.caller(CALLER).dial().say("退款", confidence=0.4)
    assert fake.forms("/s")[0]["Confidence"] == "0.4"
