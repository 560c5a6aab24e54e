"""What a person at the simulator does, for ``flask simulate`` and the browser phone alike:
one step on a call, and an agent's side (their rung phone picked up, or a call to the
agent line; taking the waiting caller). A step a script takes is emitted as a ``keys``
event, so each transcript shows it where it happened."""

from __future__ import annotations

from telephony.simulator.leg import Leg
from telephony.simulator.numbers import AGENT_LINE
from telephony.simulator.switch import Switch


class StepError(Exception):
    """A step nobody was listening for; the message says which and why."""


def take_step(call: Leg, step: str) -> None:
    """One step of a person on ``call``: digits (135790#), ``say: words``, ``silence``,
    ``wait`` (one more turn of the queue's wait music) or ``hangup``; StepError when
    nobody listens for it."""
    word = step.strip()
    try:
        if word == "hangup":
            call.hang_up()
        elif word == "silence":
            call.silence()
        elif word == "wait":
            call.hold()
        elif word.startswith("say:"):
            words = word.removeprefix("say:").strip()
            call.leave_message(len(words) or 1) if call.record_action else call.say(words)
        elif word and all(key in "0123456789*#" for key in word):
            call.leave_message() if call.record_action else call.press(word)
        else:
            raise StepError(f"{step!r} is not a step (type help)")
    except AssertionError as exc:
        raise StepError(f"{step!r}: nobody was listening ({exc})") from None


def keyed(call: Leg, step: str) -> None:
    """A step shown in the transcript as the person takes it, then taken."""
    call.switch.emit(call, "keys", step.strip())
    take_step(call, step)


def play_agent(switch: Switch, phone: str, pin: str | None) -> Leg:
    """The agent's side: their rung phone if it is ringing or whispering, else a call from
    their phone to the agent line, keying the PIN and # and 1 to take the next caller."""
    leg = switch.phone(phone).call
    if leg is not None and leg.status == "ringing":
        leg.answer()
    if leg is None:
        leg = switch.caller(phone, to=AGENT_LINE).dial()
        if pin is not None:
            keyed(leg, f"{pin}#")
            keyed(leg, "1")
    return leg


def agent_takes_the_caller(switch: Switch, phone: str, pin: str) -> None:
    """The scripted agent: takes the waiting caller, accepts after the whisper, talks in the
    conference, hangs up."""
    agent = play_agent(switch, phone, pin)
    keyed(agent, "1")
    if agent.conference is None:
        raise StepError(f"the agent was not connected to the caller; heard: {agent.text}")
    switch.wait(switch.durations.talk_seconds)
    agent.hang_up()
