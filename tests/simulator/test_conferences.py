"""Conferences and dialled parties: participants joining and leaving, status callbacks,
endConferenceOnExit, the Dial action's parameters, and a screening whisper."""

from __future__ import annotations

from telephony.simulator import NoAnswer, Switch
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
