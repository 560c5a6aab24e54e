"""The only module that talks to Twilio's REST API.

Twilio's client has no base-URL setting, so requests are sent through an
http client that swaps the API's origin for ``TWILIO_API_BASE_URL`` (a local
mock in tests), leaving paths, auth and parameters exactly as Twilio's own
client builds them.
"""

from __future__ import annotations

import logging
from typing import Any

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

TWILIO_API_ORIGIN = "https://api.twilio.com"
# Seconds to connect, and again to read the answer: a webhook waits for its REST
# request, and must still answer well inside Twilio's 15 s.
REST_TIMEOUT_SECONDS = 3.0

log = logging.getLogger(__name__)


class TwilioUnavailable(RuntimeError):
    """A REST call could not be made or was refused; the message says why."""


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends Twilio's REST requests to another origin (a mock, or a proxy)."""

    def __init__(self, base_url: str, timeout: float = REST_TIMEOUT_SECONDS) -> None:
        # Twilio's own request logging is verbose and names numbers; keep ours.
        quiet = logging.getLogger("twilio.http_client.quiet")
        quiet.setLevel(logging.WARNING)
        super().__init__(timeout=timeout, logger=quiet)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API_ORIGIN):
            url = self.base_url + url[len(TWILIO_API_ORIGIN) :]
        return super().request(method, url, *args, **kwargs)


class TwilioGateway:
    """The REST operations Hotline needs, behind one small interface."""

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        from_number: str | None,
        base_url: str = TWILIO_API_ORIGIN,
    ) -> None:
        self.from_number = from_number
        self._client: Client | None = None
        if account_sid and auth_token:
            self._client = Client(account_sid, auth_token, http_client=BaseUrlHttpClient(base_url))

    @property
    def configured(self) -> bool:
        return self._client is not None and bool(self.from_number)

    def _require_client(self) -> Client:
        if self._client is None or not self.from_number:
            raise TwilioUnavailable(
                "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and HOTLINE_NUMBER must be set"
                " for Hotline to send SMS or place calls"
            )
        return self._client

    def dequeue(self, queue_sid: str, call_sid: str, url: str) -> None:
        """Take one particular caller out of a Twilio queue; their call goes on at ``url``."""
        client = self._require_client()
        try:
            client.queues(queue_sid).members(call_sid).update(url=url, method="POST")
        except TwilioException as exc:
            raise TwilioUnavailable(f"Twilio refused to dequeue the caller: {exc}") from exc
        except OSError as exc:
            raise TwilioUnavailable(f"Twilio's API could not be reached: {exc}") from exc

    def redirect(self, call_sid: str, url: str) -> None:
        """Move a live call to the TwiML at ``url``, out of whatever it is doing (a
        conference, say): twilio.com/docs/voice/api/call-resource#update-a-call-resource."""
        client = self._require_client()
        try:
            client.calls(call_sid).update(url=url, method="POST")
        except TwilioException as exc:
            raise TwilioUnavailable(f"Twilio refused to move the call: {exc}") from exc
        except OSError as exc:
            raise TwilioUnavailable(f"Twilio's API could not be reached: {exc}") from exc

    def ring(
        self, to: str, url: str, status_callback: str, status_events: list[str], timeout: int
    ) -> str:
        """Call ``to``; when answered the call runs the TwiML at ``url``, and
        ``status_callback`` hears of ``status_events``. Returns its SID."""
        client = self._require_client()
        try:
            call = client.calls.create(
                to=to,
                from_=self.from_number,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=status_events,
                timeout=timeout,
            )
        except TwilioException as exc:
            raise TwilioUnavailable(f"Twilio refused the call: {exc}") from exc
        except OSError as exc:
            raise TwilioUnavailable(f"Twilio's API could not be reached: {exc}") from exc
        return str(call.sid)

    def send_sms(self, to: str, body: str) -> str:
        """Send a text message; returns its SID. The body is never logged."""
        client = self._require_client()
        try:
            message = client.messages.create(to=to, from_=self.from_number, body=body)
        except TwilioException as exc:
            raise TwilioUnavailable(f"Twilio refused the SMS: {exc}") from exc
        except OSError as exc:
            raise TwilioUnavailable(f"Twilio's API could not be reached: {exc}") from exc
        return str(message.sid)
