"""``flask --app app db …``: schema migrations for operators and developers."""

from __future__ import annotations

import click
from alembic import command
from flask import Blueprint

from models.db import alembic_config, database, upgrade

bp = Blueprint("db", __name__)
bp.cli.short_help = "Database schema: upgrade, or generate a migration."


@bp.cli.command("upgrade")
def upgrade_command() -> None:
    """Migrate the database to the newest schema (the server also does it when it starts)."""
    upgrade(database().engine)
    click.echo("Database schema is up to date.")


@bp.cli.command("revision")
@click.argument("message")
def revision_command(message: str) -> None:
    """Generate a migration from the difference between the models and the database."""
    config = alembic_config()
    with database().engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
