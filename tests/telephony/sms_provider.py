"""An SMS provider of the tests' own, plugged in as an operator would plug in theirs:
``SMS_SENDER=tests.telephony.sms_provider:outbox``."""

from __future__ import annotations

from dataclasses import dataclass, field

from settings import Settings
from telephony.sms import SmsNotSent


@dataclass
class Outbox:
    """Keeps what it is asked to send; ``down`` makes it refuse, as a provider may."""

    sender: str
    sent: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False

    def send(self, to: str, body: str) -> str:
        if self.down:
            raise SmsNotSent("the provider is down")
        self.sent.append((to, body))
        return f"outbox-{len(self.sent)}"


def outbox(settings: Settings) -> Outbox:
    return Outbox(sender=settings.hotline_number or "")


def not_a_sender(settings: Settings) -> object:
    return object()


def failing(settings: Settings) -> Outbox:
    raise KeyError("PROVIDER_API_KEY")
