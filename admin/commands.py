"""``flask --app app operators add|password|list``: the console's accounts, from the
server's shell (the first admin has no console to be added from)."""

from __future__ import annotations

import click
from flask import Blueprint, current_app
from sqlalchemy import select

from models import Operator
from models.db import database
from models.operators import OperatorRole
from verification.passwords import MIN_LENGTH, hash_password

bp = Blueprint("operator_commands", __name__, cli_group="operators")

password_option = click.password_option(
    "--password",
    prompt="Password",
    confirmation_prompt="Again",
    help=f"at least {MIN_LENGTH} characters; asked for (hidden, twice) when not given",
)


def _hashed(password: str) -> str:
    try:
        return hash_password(password)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="password") from None


@bp.cli.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([role.value for role in OperatorRole]),
    required=True,
    help="supervisor: sees the console and acts on calls and work; admin: also manages"
    " agents and operators",
)
@password_option
def add_command(name: str, role: str, password: str) -> None:
    """Add the operator NAME, who signs in to /admin with NAME and the password."""
    if not 1 <= len(name) <= 64:
        raise click.BadParameter("1 to 64 characters", param_hint="NAME")
    hashed = _hashed(password)
    with database().sessions() as session, session.begin():
        if session.scalars(select(Operator).where(Operator.name == name)).first():
            raise click.ClickException(
                f"there is an operator {name!r} already: `operators password {name}` sets"
                " a new password"
            )
        now = current_app.extensions["clock"]()
        session.add(
            Operator(name=name, role=OperatorRole(role), password_hash=hashed, created_at=now)
        )
    click.echo(f"Operator {name} added as {role}: sign in at /admin/login.")


@bp.cli.command("password")
@click.argument("name")
@password_option
def password_command(name: str, password: str) -> None:
    """Set operator NAME's password; their sessions signed in with the old one end."""
    hashed = _hashed(password)
    with database().sessions() as session, session.begin():
        operator = session.scalars(select(Operator).where(Operator.name == name)).first()
        if operator is None:
            raise click.ClickException(f"no operator {name!r}: `operators add {name}` first")
        operator.password_hash = hashed
    click.echo(f"Password set for {name}.")


@bp.cli.command("list")
def list_command() -> None:
    """The operators and their roles."""
    with database().sessions() as session:
        operators = session.scalars(select(Operator).order_by(Operator.name)).all()
        for operator in operators:
            click.echo(f"{operator.name}\t{operator.role}")
    if not operators:
        click.echo("No operators yet: flask --app app operators add NAME --role admin")
