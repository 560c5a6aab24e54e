"""Every route of the app, sorted by who may call it: Twilio (signed webhooks), anyone
(the sign-in pages, the hold tone Twilio fetches unsigned), and people with credentials
(everything else: pages, JSON, metrics)."""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.routing import Rule

from calls.webhooks import Webhooks

# Open to anyone, each for its reason: the forms people sign in with, the hold tone
# (Twilio fetches <Play> audio without a signature; it is a sine wave), static files.
PUBLIC = {"desk_auth.login", "admin_auth.login", "static"}
PUBLIC_BLUEPRINTS = {"media"}
# Twilio's Fallback URL and its follow-ups: signed, though not stage-gated webhooks.
TWILIO_BLUEPRINTS = {"fallback"}


def blueprint(rule: Rule) -> str:
    return rule.endpoint.rpartition(".")[0]


def twilio_routes(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if blueprint(rule) in TWILIO_BLUEPRINTS
        or isinstance(app.blueprints.get(blueprint(rule)), Webhooks)
    ]


def guarded_routes(app: Flask) -> list[Rule]:
    """Routes that must refuse a request without credentials."""
    twilio = {id(rule) for rule in twilio_routes(app)}
    return [
        rule
        for rule in app.url_map.iter_rules()
        if id(rule) not in twilio
        and rule.endpoint not in PUBLIC
        and blueprint(rule) not in PUBLIC_BLUEPRINTS
    ]


def example_path(rule: Rule) -> str:
    """The rule's path with each variable part filled in (an id of 1, a name of x)."""
    return re.sub(r"<([^>]+)>", lambda m: "1" if m[1].startswith("int") else "x", rule.rule)
