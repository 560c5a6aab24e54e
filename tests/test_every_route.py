"""Nothing but Twilio's webhooks and the sign-in pages answers a stranger: every page,
JSON endpoint, download and the metrics refuse a request without credentials, whichever
blueprint added them (the signature test walks Twilio's routes the same way)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from settings import Settings
from tests.admin.consoles import ADMIN, Console
from tests.pages import TOKEN
from tests.routes import example_path, guarded_routes

LOGIN_PAGES = ("/desk/login", "/admin/login")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """With the metrics on: off, /metrics is not there to refuse anyone."""
    return settings.model_copy(update={"metrics_token": SecretStr("a-metrics-token-" * 2)})


def test_every_page_and_endpoint_refuses_a_stranger(app: Flask, client: FlaskClient) -> None:
    routes = guarded_routes(app)
    # The walk covers the parts the issue names (and whatever else is registered).
    assert {"/desk", "/desk/state", "/admin/agents", "/metrics"} <= {rule.rule for rule in routes}
    login_page = client.get("/admin/login").get_data(as_text=True)
    found = TOKEN.search(login_page)
    assert found is not None
    token = found[1]  # a session with a CSRF token, but nobody signed in
    for rule in routes:
        path = example_path(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            answer = client.open(path, method=method, data={"csrf_token": token})
            refused = answer.status_code in (401, 403) or (
                answer.status_code == 302 and answer.headers["Location"].startswith(LOGIN_PAGES)
            )
            assert refused, f"{method} {path} answered {answer.status_code} to a stranger"
            assert "李娜" not in answer.get_data(as_text=True), path


def test_posts_without_a_csrf_token_are_refused_even_signed_in(
    app: Flask, client: FlaskClient, demo: None
) -> None:
    console = Console(client)
    assert console.sign_in(*ADMIN).status_code == 302
    for rule in guarded_routes(app):
        if "POST" in (rule.methods or ()) and rule.rule.startswith("/admin"):
            answer = client.post(example_path(rule), data={})
            assert answer.status_code == 400, rule.rule
