"""How webhook requests reach Hotline: over real HTTP, or into a Flask app in this process."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Protocol
from urllib.parse import urlsplit

import requests
from werkzeug.test import Client

from telephony.simulator.webhooks import WEBHOOK_TIMEOUT, Media, Reply


class Transport(ABC):
    """Delivers one signed request. ``base_url`` is the origin Twilio believes it calls."""

    base_url: str

    @abstractmethod
    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply: ...

    @abstractmethod
    def media(self, url: str) -> Media:
        """GET an audio file, as Twilio fetches a <Play>'s URL."""


class Relay(Transport):
    """Passes everything to ``inner``: the base of a network that misbehaves in one way
    (late, down, timed), which overrides only what it changes."""

    def __init__(self, inner: Transport) -> None:
        self.inner, self.base_url = inner, inner.base_url

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        return self.inner.send(method, url, params, signature)

    def media(self, url: str) -> Media:
        return self.inner.media(url)


class HttpTransport(Transport):
    """Real HTTP. Behind a proxy Twilio signs the public URL (``base_url``) while the
    request really goes to ``server``; without one they are the same."""

    def __init__(self, base_url: str = "http://127.0.0.1:5000", server: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.server = (server or base_url).rstrip("/")

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        target = self.server + url[len(self.base_url) :] if url.startswith(self.base_url) else url
        try:
            response = requests.request(
                method,
                target,
                data=params if method == "POST" else None,
                headers={"X-Twilio-Signature": signature},
                timeout=WEBHOOK_TIMEOUT,
            )
        except requests.RequestException as exc:
            return Reply(url, None, error=str(exc))
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Reply(url, response.status_code, content_type, response.text)

    def media(self, url: str) -> Media:
        target = self.server + url[len(self.base_url) :] if url.startswith(self.base_url) else url
        try:
            response = requests.get(target, timeout=WEBHOOK_TIMEOUT)
        except requests.RequestException:
            return Media(None, "", b"")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Media(response.status_code, content_type, response.content)


class FlaskApp(Protocol):
    def test_client(self) -> Client: ...


class FlaskTransport(Transport):
    """A Flask app in this process, through its test client: one client per thread, so
    callers acting at once each have their own connection."""

    def __init__(self, app: FlaskApp, base_url: str = "http://localhost") -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self._local = threading.local()

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.app.test_client()
        parts = urlsplit(url)
        response = client.open(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            method=method,
            base_url=f"{parts.scheme}://{parts.netloc}",
            data=params if method == "POST" else None,
            headers={"X-Twilio-Signature": signature},
        )
        body = response.get_data(as_text=True)
        response.close()  # as a WSGI server does once the answer is sent
        return Reply(url, response.status_code, response.mimetype or "", body)

    def media(self, url: str) -> Media:
        parts = urlsplit(url)
        response = self.app.test_client().get(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        return Media(response.status_code, response.mimetype or "", response.get_data())
