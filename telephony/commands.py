"""``flask --app app webhook-urls``: what to paste into Twilio's console."""

from __future__ import annotations

import click
from flask import Blueprint, current_app

bp = Blueprint("telephony", __name__, cli_group=None)

WEBHOOKS = (
    ("Hotline number: A call comes in (HTTP POST)", "/voice/incoming"),
    ("Hotline number: Primary handler fails (HTTP POST)", "/voice/fallback"),
    ("Hotline number: Call status changes (HTTP POST)", "/voice/status"),
    ("Agent line: A call comes in (HTTP POST)", "/agents/incoming"),
    ("Agent line: Call status changes (HTTP POST)", "/agents/status"),
)


@bp.cli.command("webhook-urls")
@click.option(
    "--port", default=5000, show_default=True, help="Local port, when PUBLIC_BASE_URL is unset."
)
def webhook_urls(port: int) -> None:
    """Print the webhook URLs to set on your Twilio numbers."""
    settings = current_app.extensions["settings"]
    base = str(settings.public_base_url or f"http://127.0.0.1:{port}").rstrip("/")
    click.echo("Configure these webhooks in the Twilio console (Phone Numbers > Active numbers):")
    for label, path in WEBHOOKS:
        click.echo(f"  {label:<50} {base}{path}")
    if settings.public_base_url is None:
        click.echo(
            "Twilio cannot reach 127.0.0.1: expose the server (see README, 'Exposing Hotline to"
            " Twilio') and set PUBLIC_BASE_URL to its public https URL."
        )
