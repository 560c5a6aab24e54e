"""/metrics (issue 10, point 7): refused without the bearer token; what the processes
counted (webhook latencies, REST failures, apologies) and what the database says now
(calls ended by outcome, queues and their oldest wait, callbacks, agents by status)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from settings import Settings
from telephony.simulator import Switch
from tests.admin.scrapes import BEARER, TOKEN, Samples, parse, value
from tests.calls.faults import broken_table
from tests.conftest import OPEN_HOURS
from tests.demo import DEMO, customer

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")  # Prometheus text format
    return parse(response.text)


@sqlite_only
def test_metrics_are_off_without_a_token(app: Flask, client: FlaskClient) -> None:
    settings = app.extensions["settings"]
    app.extensions["settings"] = settings.model_copy(update={"metrics_token": None})
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 404 and "METRICS_TOKEN" in response.text


@sqlite_only
def test_metrics_need_the_bearer_token(client: FlaskClient) -> None:
    wrong = [f"Basic {TOKEN}", "Bearer", "Bearer wrong-token", f"Bearer {TOKEN}x", TOKEN]
    for headers in [{}, *({"Authorization": authorization} for authorization in wrong)]:
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
        assert "hotline_" not in response.text
    assert client.get("/metrics", headers=BEARER).status_code == 200


@pytest.mark.usefixtures("demo")
def test_a_scrape_shows_the_queues_agents_and_calls_as_they_stand(
    app: Flask, client: FlaskClient, phone
) -> None:
    before = scrape(client)
    wang, emily = customer(language="zh"), customer(language="en")
    asked = (
        phone(wang["phone"]).dial().press("1").press("#").press(wang["pin"]).press("2").press("0")
    )
    asked.hold(seconds=70).press_during_music("1")  # a callback instead of waiting
    assert asked.hung_up
    waiting = (
        phone(emily["phone"]).dial().press("2").press("#").press(emily["pin"]).press("2").press("0")
    )
    assert waiting.queued
    app.extensions["clock"] = lambda: OPEN_HOURS + timedelta(seconds=95)

    now = scrape(client)
    assert value(now, "hotline_queue_callers", queue="funds") == 1
    assert value(now, "hotline_queue_oldest_wait_seconds", queue="funds") == 95
    assert value(now, "hotline_queue_callers", queue="urgent") == 0
    assert value(now, "hotline_queue_oldest_wait_seconds", queue="urgent") == 0
    assert value(now, "hotline_callbacks_open", queue="funds") == 1
    assert value(now, "hotline_calls_ended_total", outcome="callback") == 1
    assert value(now, "hotline_agents", status="offline") == len(DEMO["agents"])
    assert value(now, "hotline_agents", status="available") == 0
    assert value(now, "hotline_database_up") == 1
    incoming = ("hotline_webhook_duration_seconds_count", {"webhook": "voice.incoming"})
    assert value(now, incoming[0], **incoming[1]) - value(before, incoming[0], **incoming[1]) == 2


@sqlite_only
@pytest.mark.usefixtures("demo")
def test_rest_failures_and_apologies_are_counted(
    app: Flask, client: FlaskClient, phone, switch: Switch, twilio_api
) -> None:
    before = scrape(client)
    twilio_api.fail_next(status=500)
    # Twilio refuses the code.
    call = phone(customer(pin=False)["phone"]).dial().press("1").press("#").press("*")
    with broken_table(app):
        call.press("0")  # a fault inside: the caller hears the apology
    call.post("/voice/fallback", {"ErrorCode": "11200", "ErrorUrl": "/voice/menu"})

    after = scrape(client)
    counted = {
        ("hotline_twilio_rest_failures_total", ("request", "sms"), ("reason", "refused")),
        ("hotline_fallback_answers_total", ("cause", "caller_webhook")),
        ("hotline_fallback_answers_total", ("cause", "fallback_url")),
    }
    for name, *labels in counted:
        assert value(after, name, **dict(labels)) - value(before, name, **dict(labels)) == 1


@sqlite_only
def test_a_scrape_while_the_database_fails_still_serves_what_processes_counted(
    app: Flask, client: FlaskClient
) -> None:
    with broken_table(app, "agents"):
        samples = scrape(client)
    assert value(samples, "hotline_database_up") == 0
    assert not any(name == "hotline_agents" for name, _ in samples)
    assert any(name.startswith("python_gc") for name, _ in samples)  # this process's own
