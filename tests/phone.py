"""A phone call driven the way Twilio drives one: signed webhooks, TwiML followed verb by verb."""

from __future__ import annotations

import dataclasses
import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

BASE_URL = "http://localhost"
ACCOUNT_SID = "AC" + "a1" * 16
HOTLINE = "+8640012345678"
_sids = itertools.count(1)


def sign(token: str, url: str, params: dict[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, params)


@dataclass
class Said:
    text: str
    language: str | None
    voice: str | None


@dataclass
class Gathering:
    action: str
    attributes: dict[str, str]
    rest: list[ET.Element]  # what Twilio plays next when the caller stays silent


@dataclass
class PhoneCall:
    """One caller. ``heard`` holds what was said since the last action."""

    client: FlaskClient
    token: str
    caller: str = "+8613800138000"
    to: str = HOTLINE
    direction: str = "inbound"
    call_sid: str = field(default_factory=lambda: f"CA{next(_sids):032x}")
    conference: str | None = None  # the room a <Dial><Conference> put the call in
    dial_action: str | None = None
    heard: list[Said] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # every TwiML document, raw
    gather: Gathering | None = None
    queue: str | None = None
    queue_action: str | None = None
    wait_url: str | None = None
    waited: int = 0  # seconds in the queue so far, as Twilio would report them
    played: list[str] = field(default_factory=list)  # audio URLs
    record_action: str | None = None
    hung_up: bool = False
    url: str = BASE_URL + "/voice/incoming"
    base_url: str = BASE_URL  # another server's, to call it over HTTP

    @property
    def text(self) -> str:
        return " ".join(said.text for said in self.heard)

    def dial(self, line: str = "/voice/incoming") -> PhoneCall:
        return self._request(self.base_url + line, {})

    def press(self, digits: str) -> PhoneCall:
        assert self.gather is not None, f"nobody asked for input; heard: {self.text}"
        extra = {"Digits": digits}
        if self.gather.attributes.get("finishOnKey", "#") == "#" and "numDigits" not in (
            self.gather.attributes
        ):
            extra["FinishedOnKey"] = "#"
        return self._request(self.gather.action, extra)

    def say(self, words: str, confidence: float = 0.9) -> PhoneCall:
        """Speak instead of pressing keys (the Gather must listen for speech)."""
        assert self.gather is not None, "nobody asked for input"
        assert "speech" in self.gather.attributes.get("input", ""), "this prompt takes keys only"
        return self._request(
            self.gather.action, {"SpeechResult": words, "Confidence": str(confidence)}
        )

    def silence(self) -> PhoneCall:
        """The Gather times out: Twilio carries on with the verbs after it."""
        assert self.gather is not None, "nobody asked for input"
        rest, self.gather = self.gather.rest, None
        self.heard = []
        self._play(rest)
        return self

    def hold(self, position: int = 1, seconds: int = 30, average: int = 0) -> PhoneCall:
        """Twilio asking for the wait document of the queued caller."""
        assert self.wait_url is not None, "the caller is not waiting in a queue"
        self.waited = seconds
        return self._request(
            self.wait_url,
            {
                "QueuePosition": str(position),
                "QueueTime": str(seconds),
                "AvgQueueTime": str(average),
                "CurrentQueueSize": str(max(position, 1)),
                "QueueSid": "QU" + "0" * 32,
            },
        )

    def leave_message(self, duration: int = 12) -> PhoneCall:
        """Speak after the beep and press #: Twilio posts the recording to the action."""
        assert self.record_action is not None, "nobody is recording"
        action, self.record_action = self.record_action, None
        return self._request(
            action,
            {
                "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
                "RecordingSid": "RE" + "1" * 32,
                "RecordingDuration": str(duration),
                "Digits": "#",
            },
        )

    def leave_queue(self, result: str, seconds: int = 30) -> PhoneCall:
        assert self.queue_action is not None, "the caller is not in a queue"
        action, self.queue_action = self.queue_action, None
        return self._request(
            action, {"QueueResult": result, "QueueTime": str(seconds), "QueueSid": "QU" + "0" * 32}
        )

    def redirect(self, url: str) -> PhoneCall:
        """Twilio moving the call to another URL (a REST update or dequeue)."""
        self.queue_action = self.wait_url = None
        return self._request(url, {})

    def conference_ends(self, seconds: int = 120) -> PhoneCall:
        """The other side hung up: Twilio requests the Dial action."""
        assert self.dial_action is not None, "the call is not in a conference"
        action, self.dial_action = self.dial_action, None
        return self._request(
            action, {"DialCallStatus": "completed", "DialCallDuration": str(seconds)}
        )

    def late(self, url: str, extra: dict[str, str] | None = None) -> PhoneCall:
        """A request of this call that arrives late (Twilio retrying one, or the answer
        to an older prompt), followed on a copy: this call keeps its own prompt."""
        twin = dataclasses.replace(self, heard=[], documents=[], played=[], gather=None)
        return twin._request(url, extra or {})

    def end(self, status: str = "completed", duration: int = 60) -> None:
        self.post("/voice/status", {"CallStatus": status, "CallDuration": str(duration)})

    def post(self, path_or_url: str, extra: dict[str, str]) -> str:
        url = urljoin(self.base_url + "/", path_or_url)
        params = self.params() | extra
        response = self.client.post(
            url, data=params, headers={"X-Twilio-Signature": sign(self.token, url, params)}
        )
        assert response.status_code == 200, (response.status_code, url)
        assert response.mimetype == "text/xml"
        body = response.get_data(as_text=True)
        ET.fromstring(body)  # well-formed, always
        return body

    def params(self) -> dict[str, str]:
        return {
            "CallSid": self.call_sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.caller,
            "Caller": self.caller,
            "To": self.to,
            "Called": self.to,
            "CallStatus": "in-progress",
            "Direction": self.direction,
            "ApiVersion": "2010-04-01",
        }

    def _request(self, url: str, extra: dict[str, str]) -> PhoneCall:
        self.url = urljoin(self.url, url)
        self.heard, self.gather = [], None
        body = self.post(self.url, extra)
        self.documents.append(body)
        self._play(list(ET.fromstring(body)))
        return self

    def _play(self, verbs: list[ET.Element]) -> None:
        for index, verb in enumerate(verbs):
            if verb.tag == "Say":
                self.heard.append(Said(verb.text or "", verb.get("language"), verb.get("voice")))
            elif verb.tag == "Gather":
                for said in verb.iter("Say"):
                    self.heard.append(
                        Said(said.text or "", said.get("language"), said.get("voice"))
                    )
                action = urljoin(self.url, verb.get("action") or self.url)
                self.gather = Gathering(action, dict(verb.attrib), verbs[index + 1 :])
                return
            elif verb.tag == "Redirect":
                heard = self.heard
                self._request(verb.text or self.url, {})
                self.heard = heard + self.heard
                return
            elif verb.tag == "Enqueue":
                self.queue = verb.text
                action, wait_url = verb.get("action"), verb.get("waitUrl")
                self.queue_action = urljoin(self.url, action) if action else None
                self.wait_url = urljoin(self.url, wait_url) if wait_url else None
                return
            elif verb.tag == "Dial":
                room = verb.find("Conference")
                self.conference = room.text if room is not None else None
                action = verb.get("action")
                self.dial_action = urljoin(self.url, action) if action else None
                return
            elif verb.tag == "Play":
                self.played.append(verb.text or "")
            elif verb.tag == "Leave":
                heard = self.heard
                self.leave_queue("leave", seconds=self.waited)
                self.heard = heard + self.heard
                return
            elif verb.tag == "Record":
                self.record_action = urljoin(self.url, verb.get("action") or self.url)
                self.gather = Gathering(self.record_action, dict(verb.attrib), verbs[index + 1 :])
                return
            elif verb.tag == "Hangup":
                self.hung_up = True
                return
            else:
                raise AssertionError(f"unexpected verb <{verb.tag}>")
        # When a document runs out Twilio hangs up, except on a caller waiting in a
        # queue: then it asks for the wait document again.
        self.hung_up = self.queue_action is None
