"""``flask --app app report --from DATE --to DATE --format table|csv|json``."""

from __future__ import annotations

import click
from flask import Blueprint

from models.db import SchemaBehind, database, require_current_schema
from reports import compose
from reports.formats import FORMATS, write
from reports.period import PeriodError

bp = Blueprint("report_commands", __name__, cli_group=None)

FIGURES = """\b
Per branch (the queue a call waited in, or the queue its last menu leads to;
"none": the caller reached no menu) and in all:
  calls        calls in that began in the period (callbacks Hotline placed aside)
  containment  calls served by self-service alone (an answer, no agent, voicemail
               or callback) over calls that reached a menu
  service level  queued callers answered within SERVICE_LEVEL_SECONDS over queued
               callers, short abandons aside
  abandonment  callers who hung up while queued (5 s or more) over queued callers,
               short abandons (under 5 s) aside and counted apart
  avg / p90 wait  seconds from queuing to an agent's answer (average speed of
               answer; nine in ten were answered within the 90th percentile)
  avg handle   talk and wrap-up per caller handled, seconds
  voicemails, callbacks asked for (reached, unreachable), callback tries (failed)
  ratings      count, average and distribution (1-5, 5 best)
Per agent: calls talked to (callbacks too), talk and handle time, signed-in and
break time, occupancy (time busy and in wrap-up over that and time available, from
the agent's status history).
Full definitions: README, "Reports".
"""


@bp.cli.command("report", epilog=FIGURES)
@click.option("--from", "first", metavar="DATE", help="first day (2026-12-01); default: --to")
@click.option("--to", "last", metavar="DATE", help="last day, included; default: today")
@click.option(
    "--format",
    "form",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table to read, csv (one figure a row) or json",
)
def report_command(first: str | None, last: str | None, form: str) -> None:
    """The hotline's figures for whole days of the flow's time zone: volumes,
    self-service containment, service level, abandonment, waits, handle time,
    callbacks, voicemails, ratings and agents."""
    try:
        days = compose.period(first, last)
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        require_current_schema(database().engine)
    except SchemaBehind as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(write(compose.report(days), form), nl=False)
