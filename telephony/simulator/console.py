"""A person at the simulator's command line: the transcript they read, and the steps they
take (``steps.py``), from a script (``--keys 1,135790#,say:refund,silence,wait,hangup``)
or typed one by one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click

from telephony.simulator.leg import Leg
from telephony.simulator.steps import (
    StepError,
    agent_takes_the_caller,
    keyed,
    play_agent,
    take_step,
)
from telephony.simulator.switch import Event, Switch

HELP = """\
  digits (1, 135790#)  press keys        say: words   speak instead
  silence              say nothing       wait         one more turn of the queue's wait music
  hangup               hang up           agent        play the agent (call the agent line, or
  caller               back to the caller               answer their ringing phone)
  help                 this list         quit         leave the simulator"""


@dataclass
class Transcript:
    """Prints what each person hears, and the steps a script takes, as they happen: the
    caller, or an agent."""

    caller: str  # the caller's phone number
    echo: Callable[[str], None] = click.echo

    def __call__(self, event: Event) -> None:
        who = ""
        if event.leg is not None:
            who = "caller" if event.leg.phone.number == self.caller else "agent"
        if event.said is not None:
            voice = " ".join(part for part in (event.said.language, event.said.voice) if part)
            self.echo(f"{who:<7} [{voice}] {event.text}")
        elif event.kind == "keys":
            self.echo(f"{who:<7} > {event.text}")
        elif event.kind == "play":
            self.echo(f"{who:<7} ♪ {event.text}")
        elif event.kind == "error":
            self.echo(f"!       Twilio would log: {event.text}")
        else:
            self.echo(f"{who:<7} ({event.text})")


def run_script(switch: Switch, call: Leg, steps: list[str], agent: tuple[str, str] | None) -> None:
    """Raises StepError on the first step that cannot be taken."""
    pending_agent = agent
    for number, step in enumerate(steps, 1):
        if pending_agent is not None and call.queued:
            agent_takes_the_caller(switch, *pending_agent)
            pending_agent = None
        if not call.live:
            raise StepError(f"step {number} {step!r}: the call had already ended")
        keyed(call, step)
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
