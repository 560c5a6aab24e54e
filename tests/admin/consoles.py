"""An operator at the console, through Flask's test client (``tests.pages``)."""

from __future__ import annotations

from werkzeug.test import TestResponse

from tests.pages import PageUser

# The demo data's operators (ops/demo_data.json).
SUPERVISOR = ("supervisor", "hotline-supervisor")
ADMIN = ("admin", "hotline-admin")


class Console(PageUser):
    login_page = "/admin/login"
    home_page = "/admin/agents"

    def sign_in(self, name: str, password: str, back: str = "") -> TestResponse:
        form = {"name": name, "password": password, "csrf_token": self.token()}
        return self.client.post("/admin/login" + (f"?next={back}" if back else ""), data=form)
