"""Conferences and dialled parties: participants joining and leaving, status callbacks,
endConferenceOnExit, the Dial action's parameters, and a screening whisper."""

from __future__ import annotations

import pytest

from telephony.simulator import NoAnswer, Switch
from telephony.simulator.webhooks import TwilioWouldFail
from tests.simulator.conftest import CALLER, FakeApp

ROOM = (
    '<Response><Dial action="/after"><Conference statusCallback="/events"'
    ' statusCallbackEvent="start end join leave" endConferenceOnExit="{end}"'
    ' waitUrl="">room</Conference></Dial></Response>'
)


def events(fake: FakeApp) -> list[str]:
    return [form["StatusCallbackEvent"] for form in fake.forms("/events")]


def test_two_participants_start_it_and_one_leaving_ends_it(switch: Switch, fake: FakeApp) -> None:
    fake.documents |= {
        "/incoming": ROOM.format(end="true"),
        "/second": ROOM.format(end="false"),
        "/after": "<Response><Say>It ended</Say></Response>",
    }
    first = switch.caller(CALLER).dial()
    second = switch.caller("+15550000003").dial("/second")
    assert first.conference == second.conference == "room"
    assert events(fake) == ["participant-join", "participant-join", "conference-start"]
    first.hang_up()  # with endConferenceOnExit: everyone's Dial completes
    assert events(fake)[3:] == ["participant-leave", "participant-leave", "conference-end"]
    end = fake.forms("/events")[-1]
    assert end["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert end["CallSidEndingConference"] == first.call_sid
    after = [f for f in fake.forms("/after") if f["CallSid"] == second.call_sid]
    assert after == [after[0]] and after[0]["DialCallStatus"] == "completed"
    assert "DialCallSid" not in after[0] and "DialCallDuration" not in after[0]
    assert second.text == "It ended"


def test_alone_in_a_conference_nothing_takes_you_out(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = ROOM.format(end="false")
    call = switch.caller(CALLER).dial()
    switch.wait(3600)
    assert call.live and fake.forms("/after") == []
    call.conference_ends(seconds=10)
    assert fake.forms("/after")[0]["DialCallStatus"] == "completed"


def test_a_whisper_plays_to_the_called_party_before_connecting(
    switch: Switch, fake: FakeApp
) -> None:
    fake.documents |= {
        "/incoming": '<Response><Dial action="/after"><Number url="/whisper">+15550000009'
        "</Number></Dial></Response>",
        "/whisper": '<Response><Gather numDigits="1" action="/accept"><Say>A caller</Say>'
        "</Gather><Hangup/></Response>",
        "/accept": lambda form: (
            "<Response/>" if form["Digits"] == "1" else "<Response><Hangup/></Response>"
        ),
        "/after": "<Response><Say>Done</Say></Response>",
    }
    caller = switch.caller(CALLER).dial()
    agent = switch.phone("+15550000009").call
    assert agent is not None and agent.text == "A caller" and agent.direction == "outbound-dial"
    assert fake.forms("/whisper")[0]["ParentCallSid"] == caller.call_sid
    agent.press("1")  # the whisper ends: both connected
    caller.conference_ends(seconds=42)  # the agent hangs up
    [after] = fake.forms("/after")
    assert (after["DialCallStatus"], after["DialBridged"]) == ("completed", "true")
    assert after["DialCallSid"] == agent.call_sid and int(after["DialCallDuration"]) >= 42


def test_declining_in_the_whisper_leaves_completed_but_not_bridged(
    switch: Switch, fake: FakeApp
) -> None:
    fake.documents |= {
        "/incoming": '<Response><Dial action="/after"><Number url="/whisper">+15550000009'
        "</Number></Dial></Response>",
        "/whisper": '<Response><Gather numDigits="1"/><Hangup/></Response>',
    }
    switch.caller(CALLER).dial()
    agent = switch.phone("+15550000009").call
    assert agent is not None
    agent.silence()  # no key: the whisper hangs up
    [after] = fake.forms("/after")
    assert (after["DialCallStatus"], after["DialBridged"]) == ("completed", "false")


def test_a_number_that_does_not_answer(switch: Switch, fake: FakeApp) -> None:
    switch.phone("+15550000009").behaviour = NoAnswer()
    fake.documents["/incoming"] = (
        '<Response><Dial action="/after" timeout="12">+15550000009</Dial></Response>'
    )
    switch.caller(CALLER).dial()
    assert fake.forms("/after")[0]["DialCallStatus"] == "no-answer"
    assert switch.clock.now >= 12


WAITING_ROOM = (
    '<Response><Dial action="/after"><Conference statusCallback="/events"'
    ' statusCallbackEvent="start end join leave" endConferenceOnExit="true"'
    ' waitUrl="/wait">room</Conference></Dial></Response>'
)


def test_a_lone_participants_wait_document_is_requested_again_each_time_it_ends(
    switch: Switch, fake: FakeApp
) -> None:
    fake.documents |= {
        "/incoming": WAITING_ROOM,
        "/second": WAITING_ROOM,
        "/wait": "<Response><Play>https://example.com/loop.mp3</Play>"
        '<Pause length="5"/></Response>',
    }
    first = switch.caller(CALLER).dial()
    assert first.played == ["https://example.com/loop.mp3"] and len(fake.forms("/wait")) == 1
    switch.wait(80)  # one turn lasts the track (30 s in the simulator) and the pause
    assert len(fake.forms("/wait")) == 3
    switch.caller("+15550000003").dial("/second")  # the room starts: no more waiting
    switch.wait(300)
    assert len(fake.forms("/wait")) == 3


def test_a_wait_document_may_not_take_input(switch: Switch, fake: FakeApp) -> None:
    fake.documents |= {"/incoming": WAITING_ROOM, "/wait": "<Response><Gather/></Response>"}
    with pytest.raises(TwilioWouldFail, match="not allowed in a conference wait document"):
        switch.caller(CALLER).dial()


def test_a_line_that_drops_before_its_dial_never_joins(switch: Switch, fake: FakeApp) -> None:
    fake.documents["/incoming"] = ROOM.format(end="true").replace(
        "<Response>", "<Response><Say>Connecting</Say>"
    )
    call = switch.caller(CALLER).drops_at("Dial").dial()
    assert call.hung_up and call.text == "Connecting"
    assert events(fake) == [] and "room" not in switch.conferences


def test_a_call_moved_out_by_rest_leaves_the_other_alone_and_the_room_ends(
    switch: Switch, fake: FakeApp
) -> None:
    fake.documents |= {
        "/incoming": ROOM.format(end="true"),
        "/second": ROOM.format(end="true"),
        "/moved": '<Response><Say>Elsewhere</Say><Pause length="60"/></Response>',
        "/after": "<Response><Say>Room over</Say></Response>",
    }
    first = switch.caller(CALLER).dial()
    second = switch.caller("+15550000003").dial("/second")
    with switch.turn():  # Calls/{Sid}.json update with a new Url
        switch.update_call(first, {"Url": "/moved", "Method": "POST"})
    assert first.text == "Elsewhere" and first.conference == "room"
    # The moved call's Dial reports nothing; the other's ends with the room
    # (endConferenceOnExit), its action told without DialCallDuration.
    assert [f["CallSid"] for f in fake.forms("/after")] == [second.call_sid]
    assert "DialCallDuration" not in fake.forms("/after")[0] and second.text == "Room over"
    left = [
        f["CallSid"]
        for f in fake.forms("/events")
        if f["StatusCallbackEvent"] == "participant-leave"
    ]
    assert left == [first.call_sid, second.call_sid]
