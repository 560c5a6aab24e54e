"""``flask --app app agents password AGENT_ID``: set an agent's desk password."""

from __future__ import annotations

import click
from flask import Blueprint

from models import Agent
from models.db import database
from verification.passwords import MIN_LENGTH, hash_password

bp = Blueprint("desk_commands", __name__, cli_group="agents")


@bp.cli.command("password")
@click.argument("agent_id")
@click.password_option(
    "--password",
    prompt="Desk password",
    confirmation_prompt="Again",
    help=f"at least {MIN_LENGTH} characters; asked for (hidden, twice) when not given",
)
def password_command(agent_id: str, password: str) -> None:
    """Set AGENT_ID's desk password (stored as an Argon2 hash). The agent's desk
    sessions signed in with the old one end."""
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="password") from None
    with database().sessions() as session, session.begin():
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise click.ClickException(f"no agent {agent_id!r}: import the agents first")
        agent.password_hash = hashed
    click.echo(f"Desk password set for {agent_id}.")
