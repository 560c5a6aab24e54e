"""``flask --app app simulate``: call a running Hotline as Twilio would, with no Twilio
account and no network beyond loopback."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import click
from flask import Blueprint, current_app

from telephony.simulator.console import Transcript, run_interactive, run_script
from telephony.simulator.line import Account, CannotListen, account, listen, over_http, rest_address
from telephony.simulator.openapi import spec_path
from telephony.simulator.rest import RestStandIn
from telephony.simulator.steps import StepError
from telephony.simulator.switch import Switch

bp = Blueprint("simulator", __name__, cli_group=None)

START_HINT = "start Hotline first: `flask --app app run` (or `./dev demo`) in another terminal"


@bp.cli.command("simulate")
@click.option(
    "--server",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where Hotline listens.",
)
@click.option(
    "--from",
    "caller",
    default="+8613800138000",
    show_default=True,
    help="The caller ID; `anonymous` withholds it.",
)
@click.option(
    "--keys",
    help="Play a script instead of asking: comma-separated steps, each digits (135790#),"
    " say:words, silence, wait (one more turn of the wait music) or hangup.",
)
@click.option(
    "--agent",
    metavar="PHONE:PIN",
    help="Also play this agent: once the caller waits, call the agent line, key the PIN,"
    " take and accept the caller, talk, hang up.",
)
def simulate(server: str, caller: str, keys: str | None, agent: str | None) -> None:
    """Call Hotline as Twilio would: signed webhooks, TwiML followed verb by verb, queues,
    conferences, SMS and agents' phones, on a virtual clock.

    Without --keys, dial by hand: type keys, `say: words` for speech, `wait` for another
    turn of the hold music, `agent` to play an agent, `help` for the rest. The server's
    REST requests (SMS codes, agent rings, dequeues) reach this command's stand-in for
    Twilio's API at TWILIO_API_BASE_URL, so run it against a server configured so
    (./dev demo does that)."""
    settings = current_app.extensions["settings"]
    agent_login = _agent(agent)
    if not _reachable(server):
        raise click.ClickException(f"nothing answers at {server}: {START_HINT}")
    switch = account(settings, over_http(settings, server))
    switch.listeners.append(Transcript(caller))
    stand_in = _stand_in(switch, settings)
    hotline = next(iter(switch.numbers))
    signed = ", signed" if switch.auth_token else ""
    click.echo(f"Calling {hotline} at {server} from {caller}{signed}")
    try:
        call = switch.caller(caller).dial()
        if keys is None:
            run_interactive(switch, call, agent_login)
        else:
            run_script(
                switch, call, [step for step in keys.split(",") if step.strip()], agent_login
            )
    except StepError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if stand_in is not None:
            stand_in.stop()
    if switch.errors:
        raise click.ClickException(
            f"Hotline answered with an error Twilio would not accept: {switch.errors[0]}"
        )


def _agent(option: str | None) -> tuple[str, str] | None:
    if option is None:
        return None
    phone, _, pin = option.partition(":")
    if not phone or not pin:
        raise click.BadParameter(
            "give the agent's phone and PIN as PHONE:PIN", param_hint="--agent"
        )
    return phone, pin


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


def _stand_in(switch: Switch, settings: Account) -> RestStandIn | None:
    """Twilio's REST API, on the loopback address TWILIO_API_BASE_URL names."""
    address = rest_address(settings)
    if address is None:
        click.echo(
            f"(REST not simulated: TWILIO_API_BASE_URL is {settings.twilio_api_base_url}. Set"
            " it to a loopback address such as http://127.0.0.1:8765, for the server too, so"
            " SMS codes, agent rings and dequeues reach the simulator.)"
        )
        return None
    try:
        stand_in = listen(switch, address)
    except CannotListen as exc:
        raise click.ClickException(
            f"{exc}. Is another `./dev call` running, or a browser phone open at /simulator"
            " (it lets the port go five minutes after its last use)?"
        ) from None
    checked = (
        "checked against"
        if stand_in.validate
        else f"not checked ({spec_path()} is missing) against"
    )
    click.echo(f"(REST stand-in on {stand_in.base_url}; requests {checked} Twilio's OpenAPI)")
    return stand_in
