"""Signing in to the desk: the demo passwords, one answer for every failure, the PIN
lockout's limits, CSRF on every form, sessions that a new password ends."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import verification.agents
from desk.auth import SIGN_IN_FAILED
from models import Agent
from tests.conftest import OPEN_HOURS
from tests.desk.desks import Desk

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def desk(client: FlaskClient) -> Desk:
    return Desk(client)


def test_the_demo_agent_signs_in_and_sees_their_desk(desk: Desk) -> None:
    answer = desk.sign_in("A01", "hotline-A01")
    assert answer.status_code == 302 and answer.headers["Location"] == "/desk"
    page = desk.page()
    assert '<span id="agent-name">李娜</span>' in page
    assert 'id="status" data-status="offline"' in page
    assert desk.state()["agent"] == {"id": "A01", "name": "李娜"}


def test_the_session_cookie_is_kept_from_scripts_and_other_sites(desk: Desk) -> None:
    cookie = desk.sign_in("A01", "hotline-A01").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Expires=" in cookie  # a shift's lifetime, not for ever


@pytest.mark.parametrize(
    ("agent", "password"),
    [("A01", "wrong-password"), ("A99", "hotline-A01"), ("", "x"), ("A01", "")],
    ids=["wrong-password", "unknown-agent", "no-agent", "no-password"],
)
def test_every_failed_sign_in_says_the_same(desk: Desk, agent: str, password: str) -> None:
    answer = desk.sign_in(agent, password)
    assert answer.status_code == 200
    assert f'<p id="login-error" role="alert">{SIGN_IN_FAILED}</p>' in answer.get_data(as_text=True)
    assert desk.client.get("/desk").status_code == 302


def test_repeated_failures_lock_the_agent_even_with_the_right_password(
    app: Flask, desk: Desk
) -> None:
    for _ in range(5):  # VERIFICATION_LOCKOUT_FAILURES
        desk.sign_in("A02", "not-the-password")
    locked = desk.sign_in("A02", "hotline-A02")
    assert SIGN_IN_FAILED in locked.get_data(as_text=True)
    assert desk.client.get("/desk").status_code == 302
    # Another agent, and the same agent's phone PIN, are not locked by it.
    assert desk.sign_in("A01", "hotline-A01").status_code == 302
    later = OPEN_HOURS + timedelta(minutes=31)  # VERIFICATION_LOCKOUT_MINUTES
    app.extensions["clock"] = lambda: later
    assert desk.sign_in("A02", "hotline-A02").status_code == 302


def test_a_locked_agent_costs_the_same_argon2_work_as_a_wrong_password(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lock must not be heard in the answer's time: every try verifies one hash, the
    # stored one while the agent may try, a stand-in while locked (never the stored one).
    checked: list[str | None] = []
    real = verification.agents.password_matches
    monkeypatch.setattr(
        verification.agents,
        "password_matches",
        lambda stored, entered: checked.append(stored) or real(stored, entered),
    )
    for _ in range(5):  # VERIFICATION_LOCKOUT_FAILURES
        desk.sign_in("A02", "not-the-password")
    assert len(checked) == 5 and None not in checked
    desk.sign_in("A02", "hotline-A02")
    assert len(checked) == 6 and checked[-1] is None


def test_a_post_without_the_csrf_token_is_refused(desk: Desk, db: Session) -> None:
    refused = desk.client.post("/desk/login", data={"agent": "A01", "password": "hotline-A01"})
    assert refused.status_code == 400
    desk.sign_in("A01", "hotline-A01")
    assert desk.client.post("/desk/status", data={"status": "available"}).status_code == 400
    forged = desk.client.post("/desk/status", data={"status": "available", "csrf_token": "x"})
    assert forged.status_code == 400
    db.rollback()
    assert db.get(Agent, "A01").status == "offline"  # nothing changed
    header = {"X-CSRFToken": desk.token("/desk")}
    scripted = desk.client.post("/desk/status", data={"status": "break"}, headers=header)
    assert scripted.status_code == 303
    db.rollback()
    assert db.get(Agent, "A01").status == "break"


def test_a_new_password_ends_the_old_sessions(desk: Desk, runner, app: Flask) -> None:
    desk.sign_in("A03", "hotline-A03")
    assert desk.client.get("/desk").status_code == 200
    result = runner.invoke(args=["agents", "password", "A03"], input="a-new-password\n" * 2)
    assert result.exit_code == 0, result.output
    assert desk.client.get("/desk").status_code == 302
    assert desk.client.get("/desk/state").status_code == 401
    assert desk.sign_in("A03", "hotline-A03").status_code == 200  # the old one: refused
    assert desk.sign_in("A03", "a-new-password").status_code == 302


def test_a_password_is_set_only_when_long_enough_and_typed_twice_alike(runner) -> None:
    short = runner.invoke(args=["agents", "password", "A03"], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    mismatch = runner.invoke(
        args=["agents", "password", "A03"], input="a-new-password\nanother-password\n" * 3
    )
    assert mismatch.exit_code != 0
    unknown = runner.invoke(args=["agents", "password", "A99"], input="a-new-password\n" * 2)
    assert unknown.exit_code != 0 and "no agent 'A99'" in unknown.output


def test_signing_out_ends_the_session_and_takes_the_agent_offline(desk: Desk, db: Session) -> None:
    desk.sign_in("A01", "hotline-A01")
    desk.post("/desk/status", status="break")
    answer = desk.post("/desk/logout", csrf_token=desk.token("/desk"))
    assert answer.status_code == 302 and answer.headers["Location"] == "/desk/login"
    assert desk.client.get("/desk").status_code == 302
    db.rollback()
    assert db.get(Agent, "A01").status == "offline"


def test_passwords_are_stored_only_as_argon2_hashes(db: Session) -> None:
    stored = db.get(Agent, "A01").password_hash
    assert stored is not None and stored.startswith("$argon2id$") and "hotline-A01" not in stored


def test_every_desk_route_needs_a_signed_in_agent(app: Flask, desk: Desk) -> None:
    token = desk.token()  # a session with a CSRF token, but nobody signed in
    routes = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/desk")]
    assert {rule.endpoint for rule in routes} >= {"desk.page", "desk.state", "desk.accept"}
    for rule in routes:
        if rule.endpoint == "desk_auth.login":
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        if "GET" in (rule.methods or ()):
            answer = desk.client.get(path)
            page = rule.endpoint in ("desk.page",)
            assert answer.status_code == (302 if page else 401), path
        if "POST" in (rule.methods or ()):
            answer = desk.client.post(path, data={"csrf_token": token})
            assert answer.status_code == 302, path
            assert answer.headers["Location"] == "/desk/login", path


def test_a_session_cookie_changed_by_hand_signs_nobody_in(app: Flask, desk: Desk) -> None:
    desk.sign_in("A01", "hotline-A01")
    cookie = desk.client.get_cookie("hotline_session")
    assert cookie is not None and desk.client.get("/desk").status_code == 200
    value = cookie.value
    signed, _, signature = value.rpartition(".")
    # The signature's first letter off (its last may carry only padding bits in base64).
    forged = f"{signed}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    stranger = app.test_client()
    stranger.set_cookie("hotline_session", forged)
    answer = stranger.get("/desk")
    assert answer.status_code == 302 and answer.headers["Location"] == "/desk/login"
    stranger.set_cookie("hotline_session", value)  # the cookie as it was signs them in
    assert stranger.get("/desk").status_code == 200


def test_a_browser_without_any_cookie_is_signed_out_and_its_form_refused(app: Flask) -> None:
    browser = app.test_client(use_cookies=False)
    answer = browser.get("/desk")
    assert answer.status_code == 302 and answer.headers["Location"] == "/desk/login"
    refused = browser.post("/desk/login", data={"agent": "A01", "password": "hotline-A01"})
    assert refused.status_code == 400  # no session: no CSRF token it could match
