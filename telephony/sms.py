"""Who sends the one-time SMS codes: Twilio's Messages API by default, or a provider an
operator plugs in with ``SMS_SENDER=package.module:factory`` (README "Callers in
mainland China": Twilio reaches Chinese mobiles only with pre-approved templates).

A sender is any object with ``send(to, body) -> str``: ``to`` is an E.164 number,
``body`` the flow's text with the code in it, the result the provider's id of the
message. It raises ``SmsNotSent`` when no message went out; the caller then hears
the same words as ever and is offered the PIN or an agent. Hotline calls it with no
database transaction open (``calls.context.Context.send_sms``), so a slow provider
holds no lock. The factory is called once, at start-up, with the settings.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from telephony.rest import TwilioGateway, TwilioUnavailable

if TYPE_CHECKING:
    from settings import Settings


class SmsNotSent(RuntimeError):
    """No message went out; the message says why (never the body: it holds a code)."""


@runtime_checkable
class SmsSender(Protocol):
    def send(self, to: str, body: str) -> str: ...


class TwilioSms:
    """The default: Twilio's Messages API, from ``HOTLINE_NUMBER``."""

    def __init__(self, gateway: TwilioGateway) -> None:
        self.gateway = gateway

    def send(self, to: str, body: str) -> str:
        try:
            return self.gateway.send_sms(to, body)
        except TwilioUnavailable as exc:
            raise SmsNotSent(str(exc)) from exc


def load_sender(name: str, settings: Settings) -> SmsSender:
    """The sender ``package.module:factory`` makes from ``settings``; ValueError, naming
    what is wrong, when the module, the factory or what it makes is not there."""
    module_name, _, factory_name = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from None
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise ValueError(f"{module_name!r} has no callable {factory_name!r}")
    try:
        sender = factory(settings)
    except Exception as exc:  # any reason it cannot start is reported as a setting's
        raise ValueError(f"{name}() failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(sender, SmsSender):
        raise ValueError(f"{name}() made {type(sender).__name__}, which has no send(to, body)")
    return sender
