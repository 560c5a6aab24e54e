"""An agent at the desk, through Flask's test client: signs in as a browser does (the
CSRF token from the page), posts the desk's forms and reads ``/desk/state``."""

from __future__ import annotations

import html
import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


class Desk:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, page: str = "/desk/login") -> str:
        found = TOKEN.search(self.client.get(page).get_data(as_text=True))
        assert found is not None, "no CSRF token on the page"
        return found[1]

    def sign_in(self, agent: str, password: str) -> TestResponse:
        form = {"agent": agent, "password": password, "csrf_token": self.token()}
        return self.client.post("/desk/login", data=form)

    def post(self, path: str, **form: Any) -> TestResponse:
        form.setdefault("csrf_token", self.token())
        return self.client.post(path, data=form)

    def state(self) -> dict[str, Any]:
        answer = self.client.get("/desk/state")
        assert answer.status_code == 200, answer.status_code
        data: dict[str, Any] = answer.get_json()
        return data

    def page(self) -> str:
        return self.client.get("/desk").get_data(as_text=True)

    def messages(self) -> str:
        """What the page says after the last action (flashed), then forgotten."""
        found = re.search(r'<ul class="messages" id="messages">(.*?)</ul>', self.page(), re.S)
        return html.unescape(found[1]) if found else ""
