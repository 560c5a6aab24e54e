"""An agent at the desk, through Flask's test client: signs in as a browser does (the
CSRF token from the page), posts the desk's forms and reads ``/desk/state``."""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

from tests.pages import PageUser


class Desk(PageUser):
    login_page = "/desk/login"
    home_page = "/desk"

    def sign_in(self, agent: str, password: str) -> TestResponse:
        form = {"agent": agent, "password": password, "csrf_token": self.token()}
        return self.client.post("/desk/login", data=form)

    def state(self) -> dict[str, Any]:
        answer = self.client.get("/desk/state")
        assert answer.status_code == 200, answer.status_code
        data: dict[str, Any] = answer.get_json()
        return data
