"""The only module that talks to Twilio's REST API.

Twilio's client has no base-URL setting, so requests are sent through an
http client that swaps the API's origin for ``TWILIO_API_BASE_URL`` (a local
mock in tests), leaving paths, auth and parameters exactly as Twilio's own
client builds them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from metrics import REST_FAILURES
from telephony.endpoints import Endpoint, Phone

TWILIO_API_ORIGIN = "https://api.twilio.com"
# Seconds to connect, and again to read the answer: a webhook waits for its REST
# request, and must still answer well inside Twilio's 15 s.
REST_TIMEOUT_SECONDS = 3.0
# What Hotline may fetch with the account's credentials: a recording of this account on
# Twilio's API, as <Record> gives its RecordingUrl (without an extension; a stored
# ``.wav`` or ``.mp3`` form names the same recording). Nothing else stored is fetched.
RECORDING_URL = re.compile(
    r"https://api\.twilio\.com/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})"
    r"/Recordings/(?P<sid>RE[0-9a-fA-F]{32})(?:\.wav|\.mp3)?"
)
# A voicemail lasts at most two minutes (queueing.waiting); this cap, far above any,
# only keeps a wrong answer from filling the memory.
MAX_RECORDING_BYTES = 16 * 1024 * 1024

log = logging.getLogger(__name__)


class TwilioUnavailable(RuntimeError):
    """A REST call could not be made or was refused; the message says why."""


class RecordingRefused(ValueError):
    """A stored recording URL that is not one of this account's recordings on Twilio's
    API: Hotline never sends the account's credentials anywhere else."""


@dataclass(frozen=True)
class Recording:
    """A recording's audio as Twilio serves it."""

    content_type: str
    data: bytes


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends Twilio's REST requests to another origin (a mock, or a proxy)."""

    def __init__(self, base_url: str, timeout: float = REST_TIMEOUT_SECONDS) -> None:
        # Twilio's own request logging is verbose and names numbers; keep ours.
        quiet = logging.getLogger("twilio.http_client.quiet")
        quiet.setLevel(logging.WARNING)
        super().__init__(timeout=timeout, logger=quiet)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, self.rebased(url), *args, **kwargs)

    def rebased(self, url: str) -> str:
        if url.startswith(TWILIO_API_ORIGIN):
            return self.base_url + url[len(TWILIO_API_ORIGIN) :]
        return url

    def get_audio(self, url: str, auth: tuple[str, str]) -> Recording:
        """GET media with basic auth. Twilio's client reads every answer as text, which
        would garble audio, so this uses the client's own session and timeout. A redirect
        (to stored media elsewhere) is followed; requests drops the credentials when one
        leaves the host they were meant for."""
        with self.session.get(
            self.rebased(url), auth=auth, timeout=self.timeout, stream=True
        ) as answer:
            if answer.status_code != 200:
                raise TwilioUnavailable(f"Twilio answered {answer.status_code} for the recording")
            content_type = answer.headers.get("Content-Type", "")
            if not content_type.startswith("audio/"):
                raise TwilioUnavailable(f"Twilio answered {content_type!r}, not audio")
            data = bytearray()
            for chunk in answer.iter_content(chunk_size=64 * 1024):
                data += chunk
                if len(data) > MAX_RECORDING_BYTES:
                    raise TwilioUnavailable("the recording is larger than any voicemail")
        return Recording(content_type, bytes(data))


@contextmanager
def _request(kind: str, refused: str) -> Iterator[None]:
    """One REST request: its failure becomes ``TwilioUnavailable`` (``refused``, with
    Twilio's reason) and is counted by ``kind`` for the operators' metrics."""
    try:
        yield
    except TwilioException as exc:
        REST_FAILURES.labels(request=kind, reason="refused").inc()
        raise TwilioUnavailable(f"{refused}: {exc}") from exc
    except TwilioUnavailable:  # the recording's own refusals (get_audio), already worded
        REST_FAILURES.labels(request=kind, reason="refused").inc()
        raise
    except OSError as exc:
        REST_FAILURES.labels(request=kind, reason="unreachable").inc()
        raise TwilioUnavailable(f"Twilio's API could not be reached: {exc}") from exc


class TwilioGateway:
    """The REST operations Hotline needs, behind one small interface."""

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        from_number: str | None,
        base_url: str = TWILIO_API_ORIGIN,
        byoc_trunk_sid: str | None = None,
    ) -> None:
        self.from_number = from_number
        self.byoc_trunk_sid = byoc_trunk_sid
        self._client: Client | None = None
        self._http = BaseUrlHttpClient(base_url)
        if account_sid and auth_token:
            self._client = Client(account_sid, auth_token, http_client=self._http)

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
        with _request("dequeue", "Twilio refused to dequeue the caller"):
            client.queues(queue_sid).members(call_sid).update(url=url, method="POST")

    def redirect(self, call_sid: str, url: str) -> None:
        """Move a live call to the TwiML at ``url``, out of whatever it is doing (a
        conference, say): twilio.com/docs/voice/api/call-resource#update-a-call-resource."""
        client = self._require_client()
        with _request("redirect", "Twilio refused to move the call"):
            client.calls(call_sid).update(url=url, method="POST")

    def hang_up(self, call_sid: str) -> None:
        """End a call, ringing or under way: ``Status=completed`` "will attempt to hang up
        a call even if it's already in progress" (twilio.com/docs/voice/api/call-resource,
        Update a Call resource)."""
        client = self._require_client()
        with _request("hang_up", "Twilio refused to end the call"):
            client.calls(call_sid).update(status="completed")

    def ring(
        self, to: Endpoint, url: str, status_callback: str, status_events: list[str], timeout: int
    ) -> str:
        """Call ``to`` (a phone, a ``client:`` identity or a ``sip:`` URI); when answered
        the call runs the TwiML at ``url``, and ``status_callback`` hears of
        ``status_events``. Returns its SID.

        ``From`` is the hotline's number for all three: the Calls API takes "the phone
        number or client identifier to use as the caller id" and, "if the ``to``
        parameter is a phone number, ``From`` must also be a phone number"
        (twilio.com/docs/voice/api/call-resource); towards a SIP URI it is "the user you
        want to show up in the From header" (twilio.com/docs/voice/api/sip-making-calls).
        A BYOC trunk carries calls to phone numbers only: Twilio's description of
        ``Byoc`` says it "is only meaningful when ``to`` is a phone number; it will
        otherwise be ignored" (twilio-oai, twilio_api_v2010.json), so it is sent there
        alone."""
        client = self._require_client()
        byoc = self.byoc_trunk_sid if isinstance(to, Phone) else None
        trunk = {"byoc": byoc} if byoc else {}
        with _request("ring", "Twilio refused the call"):
            call = client.calls.create(
                to=str(to),
                from_=self.from_number,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=status_events,
                timeout=timeout,
                **trunk,
            )
        return str(call.sid)

    def send_sms(self, to: str, body: str) -> str:
        """Send a text message; returns its SID. The body is never logged."""
        client = self._require_client()
        with _request("sms", "Twilio refused the SMS"):
            message = client.messages.create(to=to, from_=self.from_number, body=body)
        return str(message.sid)

    def fetch_recording(self, recording_url: str) -> Recording:
        """The audio of one of this account's recordings, fetched with the account's
        credentials (the browser never sees the URL or them); RecordingRefused, without
        any request, for a URL of anything else.

        Always as WAV: a recording's URL without an extension gives WAV (audio/x-wav;
        ``.mp3`` gives audio/mpeg), and an encrypted recording comes only as WAV
        (twilio.com/docs/api/rest/recording, twilio.com/docs/api/errors/16109). With
        "Enforce HTTP Auth on Media URLs" on, media needs the account SID and auth token
        (support.twilio.com/hc/en-us/articles/15827821586843); off, they do no harm."""
        if self._client is None:
            raise TwilioUnavailable(
                "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to fetch recordings"
            )
        account_sid, auth_token = self._client.username, self._client.password
        found = RECORDING_URL.fullmatch(recording_url)
        if found is None or found["account"] != account_sid:
            raise RecordingRefused("not a recording of this account on Twilio's API")
        # Built from the checked parts alone: nothing else of the stored string is sent.
        url = f"{TWILIO_API_ORIGIN}/2010-04-01/Accounts/{account_sid}/Recordings/{found['sid']}"
        with _request("recording", "Twilio refused the recording"):
            recording = self._http.get_audio(url, (account_sid, auth_token))
        return recording
