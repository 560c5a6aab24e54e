"""``flask --app app import-data FILE``, ``flask --app app seed-demo`` and ``flask --app
app check-data``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint, current_app

from calls.spool import current_spool
from models.db import SchemaBehind, database, require_current_schema
from ops import consistency
from ops.importer import ImportFailed, import_data, load_file
from settings import ConfigError, Settings

bp = Blueprint("ops", __name__, cli_group=None)

DEMO_FILE = Path(__file__).resolve().parent / "demo_data.json"


def _import(path: Path) -> None:
    settings: Settings = current_app.extensions["settings"]
    try:
        payload = load_file(path)  # its errors name the file already
    except ImportFailed as exc:
        raise click.ClickException(str(exc)) from None
    try:
        require_current_schema(database().engine)
    except SchemaBehind as exc:
        raise click.ClickException(str(exc)) from None
    try:
        with database().sessions() as session, session.begin():
            summary = import_data(
                session,
                payload,
                key=settings.secret_key_bytes(),
                region=settings.default_region,
                reasons=current_app.extensions["flow"].reasons,
                now=current_app.extensions["clock"](),
            )
    except ImportFailed as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    except ConfigError as exc:  # no HOTLINE_SECRET_KEY to hash the PINs with
        raise click.ClickException(str(exc)) from None
    click.echo(f"Imported {summary} from {path.name}")


@bp.cli.command("import-data")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_data_command(file: Path) -> None:
    """Import customers, their accounts and transactions, and agents from a JSON FILE.

    Importing again updates records by id; a bad record stops the whole import
    and is named by its position and field.
    """
    _import(file)


@bp.cli.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo data set, with a customer for every branch of the default flow."""
    _import(DEMO_FILE)


@bp.cli.command("check-data")
def check_data_command() -> None:
    """Check that the data is whole: the promises the data model and the call flow
    keep, each a check that names the rows breaking it (by id, never a number).

    Run it after an outage, a restore, or a hand that wrote to the database. It only
    reads, from one snapshot, and holds up no call; the recordings spooled beside the
    database are looked at too. Exits 1 if any check fails.
    """
    settings: Settings = current_app.extensions["settings"]
    with database().reading(consistency.CHECK_SECONDS) as session:
        try:
            require_current_schema(session.connection())
        except SchemaBehind as exc:
            raise click.ClickException(str(exc)) from None
        data = consistency.Data(session, settings.verification_lockout_failures, current_spool())
        results = consistency.run(data)
    click.echo(consistency.described(results))
    failed = sum(not result.ok for result in results)
    click.echo(f"{len(results)} checks, {failed} failed")
    if failed:
        raise SystemExit(1)
