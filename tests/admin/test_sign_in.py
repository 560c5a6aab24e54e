"""The console's door: operators sign in with a password (Argon2, locked after repeated
failures like PINs), roles decide what they may open, forms need their CSRF token."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.auth import SIGN_IN_FAILED
from models import Operator
from settings import Settings
from tests.admin.consoles import ADMIN, SUPERVISOR, Console


def test_pages_send_strangers_to_the_sign_in_page_and_back_after(console: Console) -> None:
    answer = console.client.get("/admin/agents")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/admin/login?next=/admin/agents")

    signed = console.sign_in(*ADMIN, back="/admin/agents")
    assert signed.status_code == 302 and signed.headers["Location"] == "/admin/agents"
    assert "李娜" in console.page("/admin/agents")


def test_sign_in_never_sends_an_operator_to_another_site(console: Console) -> None:
    for elsewhere in ("//evil.example.com/x", "https://evil.example.com/", "/\\evil.example.com"):
        signed = console.sign_in(*ADMIN, back=elsewhere)
        assert signed.status_code == 302
        assert "evil" not in signed.headers["Location"]


def test_one_answer_for_an_unknown_name_and_a_wrong_password(console: Console) -> None:
    for name, password in (("nobody", "hotline-admin"), ("admin", "not-the-password")):
        answer = console.sign_in(name, password)
        assert answer.status_code == 200
        assert SIGN_IN_FAILED in answer.get_data(as_text=True)
    assert console.client.get("/admin/agents").status_code == 302


def test_repeated_failures_lock_the_operator_even_with_the_right_password(
    console: Console, settings: Settings
) -> None:
    for _ in range(settings.verification_lockout_failures):
        console.sign_in("admin", "a-wrong-password")
    answer = console.sign_in(*ADMIN)
    assert answer.status_code == 200 and SIGN_IN_FAILED in answer.get_data(as_text=True)
    # Another operator is not locked by it.
    assert console.sign_in(*SUPERVISOR).status_code == 302


def test_a_form_without_its_csrf_token_is_refused(admin: Console, db: Session) -> None:
    posted = admin.client.post(
        "/admin/operators", data={"name": "mallory", "role": "admin", "password": "x" * 12}
    )
    assert posted.status_code == 400
    assert db.scalars(select(Operator).where(Operator.name == "mallory")).first() is None


def test_supervisors_may_not_manage_people(supervisor: Console) -> None:
    assert supervisor.client.get("/admin/agents").status_code == 403
    assert supervisor.client.get("/admin/operators").status_code == 403
    refused = supervisor.post(
        "/admin/operators", name="mallory", role="admin", password="long-enough-1"
    )
    assert refused.status_code == 403


def test_passwords_are_kept_only_as_argon2_hashes(console: Console, db: Session) -> None:
    stored = db.scalars(select(Operator.password_hash).where(Operator.name == "admin")).one()
    assert stored.startswith("$argon2id$") and "hotline-admin" not in stored


def test_a_new_password_ends_the_old_sessions(
    admin: Console, runner: FlaskCliRunner, app: Flask
) -> None:
    assert admin.client.get("/admin/agents").status_code == 200
    result = runner.invoke(args=["operators", "password", "admin", "--password", "new-secret-99"])
    assert result.exit_code == 0, result.output
    assert admin.client.get("/admin/agents").status_code == 302
    assert admin.sign_in("admin", "new-secret-99").status_code == 302


def test_signing_out_ends_the_session(admin: Console) -> None:
    assert admin.post("/admin/logout", csrf_token=admin.token("/admin/agents")).status_code == 302
    assert admin.client.get("/admin/agents").status_code == 302


def test_the_first_operator_is_added_from_the_shell(
    runner: FlaskCliRunner, client: FlaskClient, db: Session
) -> None:
    added = runner.invoke(
        args=["operators", "add", "wang", "--role", "supervisor"],
        input="a-good-password\na-good-password\n",
    )
    assert added.exit_code == 0, added.output
    assert "wang" in runner.invoke(args=["operators", "list"]).output
    again = runner.invoke(
        args=["operators", "add", "wang", "--role", "admin", "--password", "another-one-1"]
    )
    assert again.exit_code != 0 and "already" in again.output
    short = runner.invoke(args=["operators", "add", "li", "--role", "admin", "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    console = Console(client)
    assert console.sign_in("wang", "a-good-password").status_code == 302
