"""A person at the simulator: the transcript they read, and the steps they take, from a
script (``--keys 1,135790#,say:refund,silence,wait,hangup``) or typed one by one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click

from telephony.simulator.leg import Leg
from telephony.simulator.numbers import AGENT_LINE
from telephony.simulator.switch import Event, Switch

HELP = """\
  digits (1, 135790#)  press keys        say: words   speak instead
  silence              say nothing       wait         one more turn of the queue's wait music
  hangup               hang up           agent        play the agent (call the agent line, or
  caller               back to the caller               answer their ringing phone)
  help                 this list         quit         leave the simulator"""


class StepError(Exception):
    """A step nobody was listening for; the message says which and why."""


@dataclass
class Transcript:
    """Prints what each person hears, as they hear it: the caller, or an agent."""

    caller: str  # the caller's phone number
    echo: Callable[[str], None] = click.echo

    def __call__(self, event: Event) -> None:
        who = ""
        if event.leg is not None:
            who = "caller" if event.leg.phone.number == self.caller else "agent"
        if event.said is not None:
            voice = " ".join(part for part in (event.said.language, event.said.voice) if part)
            self.echo(f"{who:<7} [{voice}] {event.text}")
        elif event.kind == "play":
            self.echo(f"{who:<7} ♪ {event.text}")
        elif event.kind == "error":
            self.echo(f"!       Twilio would log: {event.text}")
        else:
            self.echo(f"{who:<7} ({event.text})")


def take_step(call: Leg, step: str) -> None:
    """One step of a person on ``call``; StepError when nobody listens for it."""
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


def play_agent(switch: Switch, phone: str, pin: str | None) -> Leg:
    """The agent's side: their rung phone if it is ringing or whispering, else a call from
    their phone to the agent line, keying the PIN and # and 1 to take the next caller."""
    leg = switch.phone(phone).call
    if leg is not None and leg.status == "ringing":
        leg.answer()
    if leg is None:
        leg = switch.caller(phone, to=AGENT_LINE).dial()
        if pin is not None:
            keyed(leg, f"{pin}#", "agent")
            keyed(leg, "1", "agent")
    return leg


def keyed(call: Leg, step: str, who: str) -> None:
    """A step the script takes, shown in the transcript as the person would take it."""
    click.echo(f"{who:<7} > {step}")
    take_step(call, step)


def agent_takes_the_caller(switch: Switch, phone: str, pin: str) -> None:
    """The scripted agent: takes the waiting caller, accepts after the whisper, talks in the
    conference, hangs up."""
    agent = play_agent(switch, phone, pin)
    keyed(agent, "1", "agent")
    if agent.conference is None:
        raise StepError(f"the agent was not connected to the caller; heard: {agent.text}")
    switch.wait(switch.durations.talk_seconds)
    agent.hang_up()


def run_script(switch: Switch, call: Leg, steps: list[str], agent: tuple[str, str] | None) -> None:
    """Raises StepError on the first step that cannot be taken."""
    pending_agent = agent
    for number, step in enumerate(steps, 1):
        if pending_agent is not None and call.queued:
            agent_takes_the_caller(switch, *pending_agent)
            pending_agent = None
        if not call.live:
            raise StepError(f"step {number} {step!r}: the call had already ended")
        keyed(call, step, "caller")
    if pending_agent is not None and call.queued:
        agent_takes_the_caller(switch, *pending_agent)
    if call.live:
        click.echo("(the script is over: the caller hangs up)")
        call.hang_up()


def run_interactive(switch: Switch, call: Leg, agent: tuple[str, str | None] | None) -> None:
    click.echo(HELP)
    current = call
    while call.live:
        line = click.prompt("caller" if current is call else "agent ", prompt_suffix="> ")
        command = line.strip()
        if command == "quit":
            break
        if command == "help":
            click.echo(HELP)
        elif command == "caller":
            current = call
        elif command == "agent":
            if agent is None:
                agent = (click.prompt("The agent's phone number"), None)
            current = play_agent(switch, *agent)
        else:
            try:
                take_step(current, command)
            except StepError as exc:
                click.echo(f"! {exc}")
        if current is not call and not current.live:
            click.echo("(the agent's call has ended; back to the caller)")
            current = call
    if call.live:
        call.hang_up()
