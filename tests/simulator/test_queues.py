"""Twilio queues: the wait document's cadence on the virtual clock, FIFO positions, the
Enqueue action for each way of leaving, and <Dial><Queue> taking the first caller."""

from __future__ import annotations

import pytest

from telephony.simulator import Switch, TwilioWouldFail
from tests.simulator.conftest import CALLER, FakeApp

ENQUEUE = '<Response><Enqueue action="/left" waitUrl="/wait">help</Enqueue></Response>'
WAIT = "<Response><Say>Please hold</Say><Play>https://x/hold.mp3</Play></Response>"
OFFER = (
    '<Response><Gather input="dtmf" numDigits="1" action="/offer">'
    "<Say>Press 1 to leave</Say></Gather><Play>https://x/hold.mp3</Play></Response>"
)


@pytest.fixture
def queueing(fake: FakeApp) -> FakeApp:
    fake.documents |= {"/incoming": ENQUEUE, "/wait": WAIT}
    return fake


def test_the_wait_document_comes_at_once_then_each_time_it_ends(
    switch: Switch, queueing: FakeApp
) -> None:
    call = switch.caller(CALLER).dial()
    first = queueing.forms("/wait")[0]
    assert (first["QueuePosition"], first["QueueTime"], first["CurrentQueueSize"]) == (
        "1",
        "0",
        "1",
    )
    assert first["QueueSid"].startswith("QU") and first["MaxQueueSize"] == "1000"
    assert call.text == "Please hold" and not call.hung_up  # a queued caller is not hung up
    call.hold()
    turn = switch.durations.say("Please hold") + switch.durations.play_seconds
    assert queueing.forms("/wait")[1]["QueueTime"] == str(int(turn))
    call.hold(position=4, seconds=600, average=90)
    third = queueing.forms("/wait")[2]
    assert (third["QueuePosition"], third["QueueTime"], third["AvgQueueTime"]) == ("4", "600", "90")


def test_positions_are_first_in_first_out(switch: Switch, queueing: FakeApp) -> None:
    queueing.documents["/wait"] = OFFER
    queueing.documents["/offer"] = lambda form: "<Response><Leave/></Response>"
    first = switch.caller(CALLER).dial()
    second = switch.caller("+15550000003").dial()
    assert [f["QueuePosition"] for f in queueing.forms("/wait")] == ["1", "2"]
    first.press("1")  # <Leave/>: the action at once
    [left] = queueing.forms("/left")
    assert left["QueueResult"] == "leave" and left["CallSid"] == first.call_sid
    second.hold()
    assert queueing.forms("/wait")[-1]["QueuePosition"] == "1"
    assert queueing.forms("/wait")[-1]["AvgQueueTime"] == queueing.forms("/wait")[-1]["QueueTime"]


def test_a_caller_who_hangs_up_in_the_queue(switch: Switch, queueing: FakeApp) -> None:
    call = switch.caller(CALLER).dial()
    call.hang_up()
    [left] = queueing.forms("/left")
    assert left["QueueResult"] == "hangup" and left["CallStatus"] == "completed"
    assert queueing.forms("/status")[0]["CallStatus"] == "completed"


def test_leave_without_an_action_goes_on_after_the_enqueue(
    switch: Switch, queueing: FakeApp
) -> None:
    queueing.documents["/incoming"] = (
        '<Response><Enqueue waitUrl="/wait">help</Enqueue><Say>Left</Say></Response>'
    )
    queueing.documents["/wait"] = "<Response><Leave/></Response>"
    call = switch.caller(CALLER).dial()
    assert call.text.endswith("Left") and call.hung_up


@pytest.mark.parametrize(
    ("wait", "problem"),
    [
        ("<Response><Dial>+15550000009</Dial></Response>", "Dial"),
        ('<Response><Gather input="dtmf speech"/></Response>', "dtmf"),
    ],
)
def test_a_wait_document_allows_only_some_verbs(
    switch: Switch, queueing: FakeApp, wait: str, problem: str
) -> None:
    queueing.documents["/wait"] = wait
    with pytest.raises(TwilioWouldFail, match=problem):
        switch.caller(CALLER).dial()


def test_dial_queue_bridges_the_first_caller_and_reports_when_it_ends(
    switch: Switch, queueing: FakeApp
) -> None:
    queueing.documents |= {
        "/agent": '<Response><Dial action="/dialed"><Queue url="/announce">help</Queue>'
        "</Dial></Response>",
        "/announce": "<Response><Say>Connecting you</Say></Response>",
        "/left": "<Response><Say>Rate us</Say><Gather/></Response>",
    }
    first = switch.caller(CALLER).dial()
    switch.caller("+15550000003").dial()
    agent = switch.caller("+15550000004").dial("/agent")
    [announce] = queueing.forms("/announce")
    assert announce["CallSid"] == first.call_sid and announce["DequeingCallSid"] == agent.call_sid
    assert "Connecting you" in first.text and queueing.forms("/left") == []
    agent.hang_up()  # the bridge ends: only now the Enqueue action hears "bridged"
    [left] = queueing.forms("/left")
    assert left["QueueResult"] == "bridged"
    assert "Rate us" in first.text and first.gather is not None
    assert queueing.forms("/dialed")[0]["DialCallSid"] == first.call_sid


def test_dial_queue_waits_for_a_caller(switch: Switch, queueing: FakeApp) -> None:
    queueing.documents["/agent"] = (
        '<Response><Dial timeout="60"><Queue>help</Queue></Dial></Response>'
    )
    switch.caller(CALLER).dial().hang_up()  # the queue exists, empty
    agent = switch.caller("+15550000004").dial("/agent")
    assert agent.live
    caller = switch.caller("+15550000003").dial()
    assert not caller.queued and queueing.forms("/wait") == queueing.forms("/wait")[:1]


MUSIC_IN_GATHER = (
    '<Response><Say>Hold on</Say><Gather input="dtmf" numDigits="1" action="/key" timeout="1">'
    '<Play loop="2">https://x/hold.mp3</Play></Gather></Response>'
)
MUSIC_AFTER_GATHER = (
    '<Response><Gather input="dtmf" numDigits="1" action="/key" timeout="3">'
    "<Say>Press 1</Say></Gather><Play>https://x/hold.mp3</Play></Response>"
)


def test_a_wait_document_takes_as_long_as_what_it_plays(switch: Switch, queueing: FakeApp) -> None:
    switch.media["https://x/hold.mp3"] = 12.0  # a track of known length
    queueing.documents["/wait"] = MUSIC_IN_GATHER
    call = switch.caller(CALLER).dial()
    call.hold()
    second = queueing.forms("/wait")[1]
    assert second["QueueTime"] == str(int(switch.durations.say("Hold on") + 2 * 12 + 1))


def test_a_key_during_music_in_a_gather_is_heard(switch: Switch, queueing: FakeApp) -> None:
    queueing.documents["/wait"] = MUSIC_IN_GATHER
    switch.caller(CALLER).dial().press_during_music("1")
    assert [form["Digits"] for form in queueing.forms("/key")] == ["1"]


def test_a_key_during_music_outside_any_gather_is_lost(switch: Switch, queueing: FakeApp) -> None:
    queueing.documents["/wait"] = MUSIC_AFTER_GATHER
    call = switch.caller(CALLER).dial().press_during_music("1")
    assert queueing.forms("/key") == [] and call.queued


def test_audio_twilio_cannot_fetch_is_skipped(switch: Switch, queueing: FakeApp) -> None:
    switch.media["https://x/hold.mp3"] = None
    call = switch.caller(CALLER).dial()
    assert call.played == [] and call.text == "Please hold" and call.queued
    assert switch.warnings and "hold.mp3" in switch.warnings[0]
    start = switch.clock.now
    call.hold()
    # Nothing but the Say: the document is asked for again almost at once.
    assert switch.clock.now - start == switch.durations.say("Please hold")
