"""Admins manage agents and operators from the console: what they add can sign in or
be rung, what they change takes effect, and nothing leaves the console without an admin."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agent, Operator
from models.agents import AgentStatus
from settings import Settings
from tests.admin.consoles import Console
from tests.desk.desks import Desk
from verification.secrets import AGENT_PIN, keyed_hash

NEW_AGENT = {
    "id": "A09",
    "name": "陈静",
    "phone": "13900000009",
    "pin": "2468",
    "skills": "funds, guides",
    "languages": ["zh", "en"],
    "desk_password": "hotline-A09",
}


def test_an_agent_added_on_the_page_is_stored_as_the_import_file_would(
    admin: Console, db: Session, settings: Settings, client: FlaskClient
) -> None:
    assert admin.post("/admin/agents", **NEW_AGENT).status_code == 303
    assert "Agent A09 saved." in admin.messages("/admin/agents")

    agent = db.get(Agent, "A09")
    assert agent is not None and agent.name == "陈静"
    assert agent.phone == "+8613900000009"  # the default region's number, as E.164
    assert agent.skills == ["funds", "guides"] and agent.languages == ["zh", "en"]
    key = settings.secret_key_bytes()
    assert agent.pin_hash == keyed_hash(key, AGENT_PIN, "A09", "2468")
    # The new agent can sign in at the desk with the password given.
    desk = Desk(FlaskClient(client.application, use_cookies=True))
    assert desk.sign_in("A09", "hotline-A09").status_code == 302


def test_a_bad_agent_is_refused_naming_the_field(admin: Console, db: Session) -> None:
    admin.post("/admin/agents", **{**NEW_AGENT, "phone": "12345"})
    said = admin.messages("/admin/agents")
    assert "phone" in said and "not a valid phone number" in said
    taken = admin.post("/admin/agents", **{**NEW_AGENT, "phone": "+8613900000001"})
    assert taken.status_code == 303 and "A01" in admin.messages("/admin/agents")
    assert db.get(Agent, "A09") is None


def test_a_new_desk_password_replaces_the_old(admin: Console, client: FlaskClient) -> None:
    admin.post("/admin/agents/password", agent="A01", password="a-new-desk-pw")
    assert "Desk password set for A01." in admin.messages("/admin/agents")
    desk = Desk(FlaskClient(client.application, use_cookies=True))
    assert desk.sign_in("A01", "hotline-A01").status_code == 200  # refused: the form again
    assert desk.sign_in("A01", "a-new-desk-pw").status_code == 302


def test_an_agent_who_left_is_taken_offline_but_not_while_on_a_call(
    admin: Console, db: Session
) -> None:
    db.get(Agent, "A01").status = AgentStatus.AVAILABLE
    db.get(Agent, "A02").status = AgentStatus.BUSY
    db.commit()
    admin.post("/admin/agents/offline", agent="A01")
    assert "A01 is offline." in admin.messages("/admin/agents")
    admin.post("/admin/agents/offline", agent="A02")
    assert "A02 is on a call" in admin.messages("/admin/agents")
    db.rollback()
    assert db.get(Agent, "A01").status == AgentStatus.OFFLINE
    assert db.get(Agent, "A02").status == AgentStatus.BUSY


def test_agents_numbers_are_shown_masked(admin: Console) -> None:
    page = admin.page("/admin/agents")
    assert "+8613900000001" not in page and "0001" in page


def test_operators_are_added_changed_and_removed(
    admin: Console, db: Session, client: FlaskClient
) -> None:
    admin.post("/admin/operators", name="zhao", role="supervisor", password="zhao-password")
    assert "Operator zhao added as supervisor." in admin.messages("/admin/operators")
    zhao = str(db.scalars(select(Operator.id).where(Operator.name == "zhao")).one())

    other = Console(FlaskClient(client.application, use_cookies=True))
    assert other.sign_in("zhao", "zhao-password").status_code == 302
    assert other.client.get("/admin/operators").status_code == 403
    admin.post("/admin/operators/change", operator=zhao, role="admin")
    assert other.client.get("/admin/operators").status_code == 200  # the new role, at once

    admin.post("/admin/operators/remove", operator=zhao)
    assert "zhao removed." in admin.messages("/admin/operators")
    assert other.client.get("/admin/operators").status_code == 302  # signed out
    db.rollback()
    assert db.get(Operator, int(zhao)) is None


def test_the_last_admin_cannot_be_demoted_nor_remove_themselves(
    admin: Console, db: Session
) -> None:
    me = db.scalars(select(Operator).where(Operator.name == "admin")).one()
    admin.post("/admin/operators/change", operator=str(me.id), role="supervisor")
    assert "last admin" in admin.messages("/admin/operators")
    admin.post("/admin/operators/remove", operator=str(me.id))
    assert "cannot remove yourself" in admin.messages("/admin/operators")
    db.rollback()
    assert db.get(Operator, me.id).role == "admin"
