"""The simulated Twilio account a process plays for people calling a running Hotline
(``flask simulate``, the browser phone): a switch whose numbers point at the server,
signing its webhooks with the auth token, and the REST stand-in listening on the
loopback address TWILIO_API_BASE_URL names, which the server's REST requests reach."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

from telephony.simulator.numbers import hotline_numbers
from telephony.simulator.openapi import spec_path
from telephony.simulator.rest import RestStandIn
from telephony.simulator.switch import Switch
from telephony.simulator.transports import HttpTransport, Transport

PLACEHOLDER_ACCOUNT = "AC" + "0" * 32
PLACEHOLDER_HOTLINE = "+8640012345678"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Account(Protocol):
    """The settings the simulated account follows (Hotline's own settings)."""

    @property
    def twilio_account_sid(self) -> str | None: ...
    @property
    def twilio_auth_token(self) -> SecretStr | None: ...
    @property
    def hotline_number(self) -> str | None: ...
    @property
    def public_base_url(self) -> object | None: ...
    @property
    def twilio_api_base_url(self) -> object: ...


class CannotListen(Exception):
    """The REST stand-in cannot take its port; the message says where and why."""


def over_http(settings: Account, server: str) -> HttpTransport:
    """Webhooks sent to ``server``, signed for PUBLIC_BASE_URL when it is set (as Twilio
    signs them behind a tunnel or proxy)."""
    public = str(settings.public_base_url).rstrip("/") if settings.public_base_url else None
    return HttpTransport(public or server, server=server)


def account(settings: Account, transport: Transport) -> Switch:
    """The hotline number and the agent line, reached through ``transport``. What Twilio
    would log as Hotline's error is shown, as a caller would hear it, not raised."""
    token = settings.twilio_auth_token
    return Switch(
        transport,
        account_sid=settings.twilio_account_sid or PLACEHOLDER_ACCOUNT,
        auth_token=token.get_secret_value() if token else "",
        numbers=hotline_numbers(settings.hotline_number or PLACEHOLDER_HOTLINE),
        strict=False,
    )


def rest_address(settings: Account) -> tuple[str, int] | None:
    """Where the REST stand-in must listen: TWILIO_API_BASE_URL's loopback host and port;
    None when it names anything else (Twilio itself, say)."""
    parts = urlsplit(str(settings.twilio_api_base_url))
    if parts.hostname not in LOOPBACK or parts.port is None:
        return None
    return parts.hostname, parts.port


def listen(switch: Switch, address: tuple[str, int]) -> RestStandIn:
    """The REST stand-in for ``switch`` on ``address``, checking requests against Twilio's
    OpenAPI description when it is there."""
    host, port = address
    try:
        return RestStandIn(switch, validate=spec_path().is_file()).start(host, port)
    except (OSError, SystemExit) as exc:  # werkzeug's make_server exits on a port in use
        why = exc.strerror if isinstance(exc, OSError) else "the port is in use"
        raise CannotListen(f"cannot listen on http://{host}:{port} for REST: {why}") from None
