"""Webhook URLs written into TwiML."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def webhook_url(endpoint: str, *, absolute: bool = False, **values: Any) -> str:
    """Absolute under ``PUBLIC_BASE_URL`` when set; otherwise a path that Twilio
    resolves against the URL it just requested (``absolute`` for REST calls, which
    have no such URL: then this request's own host)."""
    path = url_for(endpoint, **values)
    base = current_app.extensions["settings"].public_base_url
    if base:
        return str(base).rstrip("/") + path
    return url_for(endpoint, _external=True, **values) if absolute else path
