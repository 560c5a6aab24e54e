"""The stage tables: every stage answered and replayable, every webhook in one table,
and a request that does not fit the call's stage only hears the prompt the call is at.

A late request is Twilio retrying one, or an answer to an older prompt (its URL
carries an older turn), or a webhook that answers another stage. Each must leave
the database exactly as it was and replay what the call is waiting on, so the
caller's or agent's live prompt still works afterwards.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from calls.stages import StageTable
from calls.webhooks import Webhooks
from models import AgentCall, Base, Call, CallEvent
from models.agents import AgentStage
from models.calls import CallStage
from settings import Settings
from telephony.simulator import Leg
from tests.conftest import OPEN_HOURS
from tests.demo import DEMO, customer

# --- The tables, read from the app as the webhook runner reads them ---------------------


@pytest.fixture
def bare_app(tmp_path: Path) -> Flask:
    """The app as ``flask --app app`` builds it: no database touched, no secrets."""
    settings = Settings.model_validate({"database_url": f"sqlite:///{tmp_path / 'unused.db'}"})
    return create_app(settings)


def tables(app: Flask) -> dict[str, StageTable[Any, Any]]:
    stages: dict[str, StageTable[Any, Any]] = app.extensions["stages"]
    return stages


def webhooks_by_party(app: Flask) -> dict[str, set[str]]:
    """The POST endpoints of every webhook blueprint in the URL map, by whose calls
    they serve ("caller" or "agent")."""
    party = {
        name: blueprint.party.name
        for name, blueprint in app.blueprints.items()
        if isinstance(blueprint, Webhooks)
    }
    assert {"voice", "verify", "queueing", "agents"} <= set(party)
    found: dict[str, set[str]] = {"caller": set(), "agent": set()}
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint in party and "POST" in (rule.methods or ()):
            found[party[blueprint]].add(rule.endpoint)
    return found


@pytest.mark.parametrize(("party", "stages"), [("caller", CallStage), ("agent", AgentStage)])
def test_every_stage_has_a_replay_and_all_but_ended_a_webhook(
    bare_app: Flask, party: str, stages: type[CallStage] | type[AgentStage]
) -> None:
    table = tables(bare_app)[party]
    assert set(table.stages) == set(stages)
    for stage, entry in table.stages.items():
        assert callable(entry.replay), stage
        if stage != "ended":
            assert entry.answered_by, f"nothing answers a {party} call at {stage}"


@pytest.mark.parametrize("party", ["caller", "agent"])
def test_every_webhook_is_in_exactly_one_place_of_its_table(bare_app: Flask, party: str) -> None:
    table = tables(bare_app)[party]
    other = tables(bare_app)["agent" if party == "caller" else "caller"]
    endpoints = webhooks_by_party(bare_app)[party]
    assert len(endpoints) >= 5
    for endpoint in endpoints:
        places = [stage for stage, entry in table.stages.items() if endpoint in entry.answered_by]
        places += ["anytime"] if endpoint in table.anytime else []
        assert len(places) == 1, f"{endpoint} is in {places or 'no place'} of the {party} table"
        assert endpoint not in other.endpoints(), f"{endpoint} is in the other party's table"


@pytest.mark.parametrize("party", ["caller", "agent"])
def test_every_endpoint_a_table_names_is_a_webhook(bare_app: Flask, party: str) -> None:
    named = tables(bare_app)[party].endpoints()
    missing = named - webhooks_by_party(bare_app)[party]
    assert not missing, f"the {party} table names webhooks the app lacks: {sorted(missing)}"


# --- Late requests, in whole calls -----------------------------------------------------

ZH = customer(language="zh")
EMILY = customer(language="en")
AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA, SARAH = AGENTS["A01"], AGENTS["A03"]
LATER = OPEN_HOURS + timedelta(minutes=1)
whole_call = pytest.mark.usefixtures("demo")


def everything(db: Session) -> dict[str, list[str]]:
    """Every row of every table."""
    db.rollback()
    return {
        table.name: sorted(repr(tuple(row)) for row in db.execute(select(table)))
        for table in Base.metadata.sorted_tables
    }


def state(db: Session, call: Leg) -> tuple[str, int, int]:
    """The stage and turn of a caller's or agent's call, and how many events calls have."""
    db.rollback()
    row: Call | AgentCall | None = db.scalars(
        select(Call).where(Call.call_sid == call.call_sid)
    ).one_or_none()
    if row is None:
        row = db.scalars(select(AgentCall).where(AgentCall.call_sid == call.call_sid)).one()
    return row.stage, row.turn, db.scalar(select(func.count()).select_from(CallEvent)) or 0


@dataclass(frozen=True)
class Prompt:
    action: str


@dataclass(frozen=True)
class Heard:
    """What the reply to a late request would play, read from its TwiML: the leg
    itself goes on with its own prompt."""

    text: str
    gather: Prompt | None
    queue: str | None
    queue_action: str | None
    wait_url: str | None
    conference: str | None  # the room a <Dial><Conference> would join
    hung_up: bool
    played: list[str]  # the URLs of its <Play>s

    @classmethod
    def read(cls, body: str, url: str) -> Heard:
        root = ET.fromstring(body)
        gather, enqueue = root.find("Gather"), root.find("Enqueue")

        def absolute(value: str | None) -> str | None:
            return urljoin(url, value) if value else None

        return cls(
            text=" ".join(say.text or "" for say in root.iter("Say")),
            gather=Prompt(urljoin(url, gather.get("action") or url))
            if gather is not None
            else None,
            queue=enqueue.text if enqueue is not None else None,
            queue_action=absolute(enqueue.get("action")) if enqueue is not None else None,
            wait_url=absolute(enqueue.get("waitUrl")) if enqueue is not None else None,
            conference=room.text if (room := root.find("Dial/Conference")) is not None else None,
            hung_up=root.find("Hangup") is not None,
            played=[play.text or "" for play in root.iter("Play")],
        )


def late(app: Flask, db: Session, call: Leg, url: str, extra: dict[str, str]) -> Heard:
    """What ``call``'s late request to ``url`` hears, a minute on by the app's clock
    (so that anything stamped with the time would show); it must change nothing."""
    before, rows = state(db, call), everything(db)
    app.extensions["clock"] = lambda: LATER
    heard = Heard.read(call.post(url, extra), urljoin(call.base_url + "/", url))
    assert state(db, call) == before
    assert everything(db) == rows
    return heard


def verified(phone) -> Leg:  # noqa: ANN001
    return phone(ZH["phone"]).dial().press("1").press("#").press(ZH["pin"])


def agent_line(phone, agent: dict[str, str] = SARAH) -> Leg:  # noqa: ANN001
    return phone(agent["phone"]).dial("/agents/incoming")


@whole_call
def test_at_language_another_stages_webhook_hears_the_greeting(phone, app, db) -> None:
    call = phone(ZH["phone"]).dial()
    menu = late(app, db, call, "/voice/menu", {"Digits": "1"})
    early = late(app, db, call, "/voice/language?turn=0", {"Digits": "2"})
    for heard in (menu, early):
        assert "普通话请按1" in heard.text and "For English, press 2" in heard.text
        assert heard.gather.action == call.gather.action
    assert "请输入您在比太钱包注册的手机号码" in call.press("1").text


@whole_call
def test_at_the_pin_a_late_language_key_hears_the_pin_question(phone, app, db) -> None:
    call = phone(ZH["phone"]).dial()
    language_prompt = call.gather.action
    call.press("1").press("#")
    heard = late(app, db, call, language_prompt, {"Digits": "2"})
    assert "请输入您的电话密码" in heard.text  # still in Mandarin: the late "2" changed nothing
    assert heard.gather.action == call.gather.action
    assert "身份验证成功" in call.press(ZH["pin"]).text


@whole_call
def test_in_a_submenu_a_late_key_to_the_main_menu_hears_the_submenu(phone, app, db) -> None:
    call = verified(phone)
    main_menu = call.gather.action
    call.press("1")  # account and security
    heard = late(app, db, call, main_menu, {"Digits": "2"})
    assert "账户与安全" in heard.text and "充值" not in heard.text
    assert heard.gather.action == call.gather.action
    pin_again = late(app, db, call, "/voice/verify/secret", {"Digits": ZH["pin"]})
    assert "账户与安全" in pin_again.text


@whole_call
def test_a_waiting_caller_hears_the_queue_again_and_keeps_their_place(phone, app, db) -> None:
    call = verified(phone)
    main_menu = call.gather.action
    call.press("0").hold(position=1, seconds=20)
    agent = agent_line(phone, LINA).press(LINA["pin"]).press("1")
    assert "王小明" in agent.text  # hearing about the caller, who is kept for them
    heard = late(app, db, call, main_menu, {"Digits": "1"})
    assert "人工客服将尽快为您服务" in heard.text
    assert (heard.queue, heard.queue_action, heard.wait_url) == (
        call.queue,
        call.queue_action,
        call.wait_url,
    )
    assert "正在接通" in agent.press("1").text


@whole_call
def test_after_the_queue_a_retried_enqueue_action_hears_the_offer_again(phone, app, db) -> None:
    call = verified(phone).press("0")
    queue_action = call.queue_action
    call.hold(position=3, seconds=600)  # the longest wait: out of the queue
    assert "留言请按1" in call.text
    heard = late(app, db, call, queue_action, {"QueueResult": "leave", "QueueTime": "600"})
    assert "留言请按1" in heard.text and heard.gather.action == call.gather.action
    assert "我们会尽快回电" in call.press("2").text  # one callback, asked once


@whole_call
def test_at_the_rating_a_retried_enqueue_action_hears_the_rating_question(phone, app, db) -> None:
    call = verified(phone).press("0")
    queue_action = call.queue_action
    call.leave_queue("bridged", seconds=42)
    heard = late(app, db, call, queue_action, {"QueueResult": "bridged", "QueueTime": "42"})
    assert "请为本次服务评价" in heard.text and heard.gather.action == call.gather.action
    call.press("1")  # 非常满意, the best
    db.rollback()
    assert db.scalars(select(Call.rating).where(Call.call_sid == call.call_sid)).one() == 5


@whole_call
def test_at_the_agent_pin_a_late_right_pin_confirms_nobody(phone, app, db) -> None:
    call = agent_line(phone)
    first_prompt = call.gather.action
    call.press("0000")
    late_pin = late(app, db, call, first_prompt, {"Digits": SARAH["pin"] + "#"})
    menu_key = late(app, db, call, "/agents/menu", {"Digits": "2"})
    for heard in (late_pin, menu_key):
        assert "Please enter your agent PIN" in heard.text
        assert heard.gather.action == call.gather.action
    assert "To take the next caller now" in call.press(SARAH["pin"]).text


@whole_call
def test_at_the_agent_menu_a_late_menu_key_hears_the_menu(phone, app, db) -> None:
    call = agent_line(phone)
    pin_prompt = call.gather.action
    call.press(SARAH["pin"])
    first_menu = call.gather.action
    call.press("1")  # nobody waiting: the menu again
    offline = late(app, db, call, first_menu, {"Digits": "2"})
    pin = late(app, db, call, pin_prompt, {"Digits": SARAH["pin"]})
    for heard in (offline, pin):
        assert "To take the next caller now" in heard.text and not heard.hung_up
        assert heard.gather.action == call.gather.action


@whole_call
def test_hearing_the_whisper_a_late_menu_key_hears_the_whisper_again(phone, app, db) -> None:
    caller = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("3").press("0")
    )
    caller.hold(position=1, seconds=15)
    agent = agent_line(phone).press(SARAH["pin"])
    menu = agent.gather.action
    agent.press("1")
    heard = late(app, db, agent, menu, {"Digits": "1"})
    assert "Emily Chen" in heard.text and heard.gather.action == agent.gather.action
    agent.press("1")  # the live whisper still takes the caller, who was kept for this agent
    assert agent.conference is not None and caller.conference == agent.conference


@whole_call
def test_talking_a_retried_accept_hears_the_room_and_wrap_up_still_follows(
    phone, app, db, twilio_api
) -> None:
    caller = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("3").press("0")
    )
    caller.hold(position=1, seconds=15)
    agent = agent_line(phone).press(SARAH["pin"]).press("1")
    whisper = agent.gather.action
    agent.press("1")
    heard = late(app, db, agent, whisper, {"Digits": "1"})  # Twilio retrying the accept
    assert heard.conference == agent.conference == caller.conference
    assert len(twilio_api.dequeues()) == 1  # the caller is not taken out of a queue twice
    agent.conference_ends(seconds=60)
    assert "The call has ended" in agent.text  # wrap-up, not the agent menu


@whole_call
def test_in_wrap_up_a_late_accept_hears_the_wrap_up_and_moves_nobody(
    phone, app, db, twilio_api
) -> None:
    caller = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("3").press("0")
    )
    caller.hold(position=1, seconds=15)
    agent = agent_line(phone).press(SARAH["pin"]).press("1")
    whisper = agent.gather.action
    agent.press("1")  # the REST dequeue moves the caller into the agent's room
    agent.conference_ends(seconds=60)
    assert "The call has ended" in agent.text
    heard = late(app, db, agent, whisper, {"Digits": "1"})
    assert "The call has ended" in heard.text and heard.gather.action == agent.gather.action
    assert len(twilio_api.dequeues()) == 1
