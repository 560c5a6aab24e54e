"""Hotline's Flask application: ``flask --app app run``, or ``python app.py``."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from callflows.flow import FlowError, load_flow
from logs import configure_logging
from models.db import Database, upgrade
from settings import ConfigError, Settings, load_settings
from telephony.rest import TwilioGateway
from telephony.signatures import SignatureCheck

log = logging.getLogger("hotline")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app. Without ``settings`` they come from the environment, and a bad
    setting or flow file stops start-up with a message that names it."""
    if settings is not None:
        return _build(settings)
    try:
        return _build(load_settings())
    except (ConfigError, FlowError) as exc:
        raise SystemExit(f"Hotline cannot start: {exc}") from None


def _build(settings: Settings) -> Flask:
    configure_logging()
    app = Flask(__name__, instance_relative_config=True)
    flow = load_flow(settings.flow_file)
    if settings.development:
        log.warning(
            "!!! TWILIO_VALIDATE_SIGNATURES is false: anyone who can reach this server can"
            " pose as Twilio. Use this for local development only. !!!"
        )
    database_url = settings.database_url
    if database_url is None:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{Path(app.instance_path) / 'hotline.db'}"
    db = Database(database_url)
    upgrade(db.engine)
    db.init_app(app)

    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    gateway = TwilioGateway(
        settings.twilio_account_sid,
        token,
        settings.hotline_number,
        str(settings.twilio_api_base_url),
    )
    if not gateway.configured:
        log.warning(
            "TWILIO_ACCOUNT_SID or HOTLINE_NUMBER is not set: customers without a PIN are"
            " offered an agent instead of an SMS code, and agents are not rung (the agent"
            " line still works)"
        )
    app.extensions.update(
        settings=settings,
        flow=flow,
        twilio=gateway,
        clock=lambda: datetime.now(UTC),
        signature_check=SignatureCheck(
            token if settings.twilio_validate_signatures else None,
            str(settings.public_base_url) if settings.public_base_url else None,
        ),
    )

    from callflows.commands import bp as flow_commands
    from callflows.routes import bp as voice
    from models.commands import bp as db_commands
    from ops.commands import bp as ops
    from queueing.agent_routes import bp as agents
    from queueing.routes import bp as queueing
    from telephony.commands import bp as telephony
    from verification.routes import bp as verification

    for blueprint in (
        voice,
        verification,
        queueing,
        agents,
        ops,
        telephony,
        db_commands,
        flow_commands,
    ):
        app.register_blueprint(blueprint)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the Hotline webhooks.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on")
    arguments = parser.parse_args()
    create_app().run(host=arguments.host, port=arguments.port)
