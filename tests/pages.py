"""Someone using Hotline's pages through Flask's test client, as a browser does: the
CSRF token from a page, forms posted with it, what the page says afterwards."""

from __future__ import annotations

import html
import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


class PageUser:
    login_page = ""
    home_page = ""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, page: str | None = None) -> str:
        found = TOKEN.search(self.client.get(page or self.login_page).get_data(as_text=True))
        assert found is not None, "no CSRF token on the page"
        return found[1]

    def post(self, path: str, **form: Any) -> TestResponse:
        form.setdefault("csrf_token", self.token())
        return self.client.post(path, data=form)

    def page(self, path: str | None = None) -> str:
        return self.client.get(path or self.home_page).get_data(as_text=True)

    def messages(self, path: str | None = None) -> str:
        """What the page says after the last action (flashed), then forgotten."""
        found = re.search(r'<ul class="messages" id="messages">(.*?)</ul>', self.page(path), re.S)
        return html.unescape(found[1]) if found else ""
