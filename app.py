"""Hotline's Flask application.

``create_app()`` builds the app and touches neither the database nor the secrets,
so ``flask --app app flow check`` runs anywhere. ``create_server()`` is the app as
a server runs it: secrets required, the schema migrated first. Serve it with
``python app.py`` or ``gunicorn 'app:create_server()'``.
"""

from __future__ import annotations

import argparse
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from admin import auth as admin_auth
from admin.calls import bp as console_calls
from admin.commands import bp as operator_commands
from admin.flow import bp as flow_page
from admin.metrics import bp as metrics
from admin.people import bp as people
from admin.phone import bp as phone
from admin.reports import bp as report_pages
from admin.wallboard import bp as wallboard
from admin.worklists import bp as worklists
from callflows.answers import ANSWERS
from callflows.routes import verify, voice
from callflows.stages import CALLER_STAGES
from calls.fallback import bp as fallback
from calls.spool import Spool, replay_pending
from calls.spool import bp as spool_commands
from desk import auth as desk_auth
from desk.commands import bp as desk_commands
from desk.views import bp as desk
from flowfile.commands import bp as flow_commands
from flowfile.loader import FlowError, load_flow
from logs import configure_logging
from models.commands import bp as db_commands
from models.db import Database, upgrade
from ops.commands import bp as ops
from queueing.agent_routes import bp as agents
from queueing.agent_stages import AGENT_STAGES
from queueing.callbacks import bp as callback_commands
from queueing.routes import bp as queueing
from queueing.routes import media, rooms
from reports.commands import bp as report_commands
from settings import ConfigError, Settings, load_settings
from telephony.commands import bp as telephony
from telephony.rest import TwilioGateway
from telephony.signatures import SignatureCheck
from telephony.simulator.commands import bp as simulator
from telephony.sms import SmsSender, TwilioSms, load_sender
from verification import sessions

log = logging.getLogger("hotline")
# Set by gunicorn.conf.py in its master once it has prepared the database: the workers it
# forks, and those that replace them later, perhaps while the database is down, then
# start without it (and answer the failure path) instead of failing to boot.
PREPARED = "HOTLINE_DATABASE_PREPARED"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app. Without ``settings`` they come from the environment, and a bad
    setting or flow file stops start-up with a message that names it."""
    if settings is not None:
        return _build(settings)
    try:
        return _build(load_settings())
    except (ConfigError, FlowError) as exc:
        raise SystemExit(f"Hotline cannot start: {exc}") from None


def create_server(settings: Settings | None = None) -> Flask:
    """The app ready to answer Twilio: its secrets present, its schema migrated (unless
    gunicorn's master did that already: PREPARED)."""
    app = create_app(settings)
    try:
        app.extensions["settings"].require_secrets()
    except ConfigError as exc:
        raise SystemExit(f"Hotline cannot start: {exc}") from None
    if not app.extensions["twilio"].configured:
        log.warning(
            "TWILIO_ACCOUNT_SID or HOTLINE_NUMBER is not set: no SMS codes, no agent is"
            " rung, and no agent can take a caller (Hotline takes each caller out of"
            " Twilio's queue through its REST API); callers can still leave voicemails"
        )
    if os.environ.get(PREPARED) != "1":
        prepare_database(app)
    return app


def prepare_database(app: Flask) -> None:
    """Once per start of a server: the schema migrated, then the recordings kept while
    the database was down (calls.spool) put in."""
    upgrade(app.extensions["db"].engine)
    with app.app_context():
        replayed = replay_pending()
    if replayed:
        log.info("%d recording(s) kept while the database was down are now voicemails", replayed)


def _build(settings: Settings) -> Flask:
    configure_logging(settings.log_format)
    app = Flask(__name__, instance_relative_config=True)
    flow = load_flow(settings.flow_file, answers=ANSWERS)
    if settings.development:
        log.warning(
            "!!! TWILIO_VALIDATE_SIGNATURES is false: anyone who can reach this server can"
            " pose as Twilio. Use this for local development only. !!!"
        )
    database_url = settings.database_url
    if database_url is None:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{Path(app.instance_path) / 'hotline.db'}"
    Database(database_url, synchronous_commit=settings.database_synchronous_commit).init_app(app)

    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    gateway = TwilioGateway(
        settings.twilio_account_sid,
        token,
        settings.hotline_number,
        str(settings.twilio_api_base_url),
        settings.twilio_byoc_trunk_sid,
    )
    app.extensions.update(
        settings=settings,
        flow=flow,
        twilio=gateway,
        sms=_sms_sender(settings, gateway),
        clock=lambda: datetime.now(UTC),
        signature_check=SignatureCheck(
            settings.twilio_validate_signatures,
            token,
            str(settings.public_base_url) if settings.public_base_url else None,
        ),
        # The call's state machines, read by the webhook runner (calls.webhooks).
        stages={"caller": CALLER_STAGES, "agent": AGENT_STAGES},
        answers=frozenset(ANSWERS),
        spool=Spool(settings.spool_dir or Path(app.instance_path) / "spool"),
    )
    sessions.configure(app, settings)
    admin_auth.configure(app)
    for blueprint in (
        fallback,
        voice,
        verify,
        queueing,
        media,
        rooms,
        agents,
        ops,
        telephony,
        simulator,
        db_commands,
        flow_commands,
        spool_commands,
        callback_commands,
        desk_auth.bp,
        desk,
        desk_commands,
        admin_auth.bp,
        people,
        phone,
        operator_commands,
        metrics,
        report_pages,
        report_commands,
        wallboard,
        flow_page,
        console_calls,
        worklists,
    ):
        app.register_blueprint(blueprint)
    return app


def _sms_sender(settings: Settings, gateway: TwilioGateway) -> SmsSender:
    """Twilio's, or the one ``SMS_SENDER`` names, made and checked now, not at the first
    caller who asks for a code."""
    if settings.sms_sender is None:
        return TwilioSms(gateway)
    try:
        return load_sender(settings.sms_sender, settings)
    except ValueError as exc:
        raise ConfigError(f"invalid settings:\n  SMS_SENDER: {exc}") from None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the Hotline webhooks.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on")
    arguments = parser.parse_args()
    create_server().run(host=arguments.host, port=arguments.port)
