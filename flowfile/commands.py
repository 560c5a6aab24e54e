"""``flask --app app flow check|graph``: the flow file, checked and drawn.

They read no database and no secrets, so an operator can check a flow file on
any machine before deploying it.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import cast

import click
from flask import Blueprint, current_app

from flowfile.flow import Flow
from flowfile.graph import dot, mermaid
from flowfile.loader import FlowError, load_flow
from flowfile.vocabulary import LANGUAGES, Language

# Named apart from the console's page flow.page (admin.flow); the commands stay `flask flow`.
bp = Blueprint("flow_commands", __name__, cli_group="flow")
bp.cli.short_help = "Check the call-flow file, or draw it."

FlowPath = click.Path(exists=True, dir_okay=False, path_type=Path)


def _load(file: Path | None) -> tuple[Path, Flow]:
    path: Path = file or current_app.extensions["settings"].flow_file
    answers: Collection[str] = current_app.extensions["answers"]
    try:
        return path, load_flow(path, answers=answers)
    except FlowError as exc:
        raise click.ClickException(str(exc)) from None


@bp.cli.command("check")
@click.argument("file", required=False, type=FlowPath)
def check_command(file: Path | None) -> None:
    """Check FILE (default: the configured FLOW_FILE): schema, translations, keys, queues,
    answers, unreachable menus and dead ends. Exits 1 naming every problem."""
    path, flow = _load(file)
    options = sum(len(menu.options) for menu in flow.menus.values())
    click.echo(f"OK: {path}: {len(flow.menus)} menus, {options} options")


@bp.cli.command("graph")
@click.argument("file", required=False, type=FlowPath)
@click.option(
    "--format",
    "form",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="Mermaid for Markdown, or Graphviz DOT.",
)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default="en",
    show_default=True,
    help="Language of the labels.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
def graph_command(file: Path | None, form: str, language: str, output: Path | None) -> None:
    """Draw FILE (default: the configured FLOW_FILE) as a diagram."""
    _, flow = _load(file)
    text = (mermaid if form == "mermaid" else dot)(flow, cast(Language, language))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")
