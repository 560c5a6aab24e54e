"""Webhook URLs written into TwiML."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def webhook_url(endpoint: str, **values: Any) -> str:
    """Absolute under ``PUBLIC_BASE_URL`` when set; otherwise a path that Twilio
    resolves against the URL it just requested."""
    path = url_for(endpoint, **values)
    base = current_app.extensions["settings"].public_base_url
    return str(base).rstrip("/") + path if base else path
