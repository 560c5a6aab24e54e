"""The agent line (SPEC §6): PIN, statuses, taking the next caller after a whisper, and
the two legs meeting in one conference, driven as Twilio drives both calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from calls import spoken
from models import Agent, AgentCall, Call, RefundTicket
from queueing.agent_line import NAME_AND_TICKET
from telephony.simulator import Leg, Switch
from tests.conftest import BASE_URL, OPEN_HOURS
from tests.demo import DEMO, customer
from tests.queueing.test_ringing import available, emily_waits, hears_it
from tests.sql import plan_of

pytestmark = pytest.mark.usefixtures("demo")

AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA, GANG, SARAH, FANG, ZHOU = (AGENTS[i] for i in ("A01", "A02", "A03", "A04", "A05"))
WANG = customer(language="zh")
EMILY = customer(language="en")


def agent_status(db: Session, agent: dict) -> str:
    db.rollback()
    row = db.get(Agent, agent["id"])
    assert row is not None
    return row.status


def signed_in(phone, agent: dict) -> Leg:  # noqa: ANN001
    call = phone(agent["phone"]).dial("/agents/incoming").press(agent["pin"])
    assert call.gather is not None and "/agents/menu" in call.gather.action
    return call


def row(db: Session, call: Leg) -> Call:
    db.rollback()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def waiting(phone, who: dict, path: tuple[str, ...], language: str = "1") -> Leg:  # noqa: ANN001
    call = phone(who["phone"]).dial().press(language).press("#").press(who["pin"])
    for key in path:
        call.press(key)
    call.press("0")
    call.hold(position=1, seconds=20)  # Twilio fetches the wait document: QueueSid known
    assert call.queue_action is not None
    return call


def test_an_agent_goes_available_or_offline(phone, db: Session) -> None:
    call = signed_in(phone, LINA)
    assert "接听下一位来电请按1" in call.text
    call.press("2")
    assert "您已设为空闲" in call.text and call.hung_up
    assert agent_status(db, LINA) == "available"
    signed_in(phone, LINA).press("3")
    assert agent_status(db, LINA) == "offline"


def test_only_agents_phones_with_the_right_pin_get_in(phone, db: Session) -> None:
    stranger = phone("+8613012345678").dial("/agents/incoming")
    assert "Please enter your agent PIN" in stranger.text  # as on an agent's phone
    for pin in (SARAH["pin"], LINA["pin"], SARAH["pin"]):  # agents' PINs, not their phone
        stranger.press(pin)
    assert "无法确认您的坐席身份" in stranger.text and stranger.hung_up
    call = phone(SARAH["phone"]).dial("/agents/incoming")
    assert "Please enter your agent PIN" in call.text
    for wrong in ("0000", "1111", "2222"):
        call.press(wrong)
    assert "could not confirm that you are an agent" in call.text and call.hung_up
    menu = phone(SARAH["phone"])
    assert "Please enter your agent PIN" in menu.post("/agents/menu", {"Digits": "2"})
    assert agent_status(db, SARAH) == "offline"  # nothing changed without the PIN


def test_a_call_from_an_agents_phone_to_the_rings_url_is_not_taken_for_a_ring(
    phone, db: Session
) -> None:
    # Only a call Hotline placed skips the PIN: one that merely comes from an agent's
    # phone (a number set up with the ring's URL, say) is told nothing and let in nowhere.
    for path in ("/agents/ring?caller=1", "/agents/callback?callback=1"):
        call = phone(SARAH["phone"]).dial("/agents/incoming")
        call.post(path, {})
        leg = db.scalars(select(AgentCall).where(AgentCall.call_sid == call.call_sid)).one()
        assert not leg.confirmed and not leg.rung, path
    assert agent_status(db, SARAH) == "offline"


def test_no_caller_waiting(phone) -> None:
    call = signed_in(phone, SARAH).press("1")
    assert "No caller for you is waiting right now" in call.text


def test_the_agent_hears_the_callers_context_then_both_meet(phone, twilio_api, db) -> None:
    caller = phone(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"])
    caller.press("2").press("3")  # hears the latest withdrawal, then asks for an agent
    caller.press("0").hold(position=1, seconds=15)
    enqueue_action = caller.queue_action
    agent = signed_in(phone, GANG).press("1")
    assert "已验证客户，王小明，语言：普通话，业务：充值与提现。" in agent.text
    assert "客户已自助查询：最近充值或提现。" in agent.text
    agent.press("1")
    assert "正在接通" in agent.text
    assert "正在为您接通客服陈刚。" in caller.text  # the one hand-off line, naming the agent
    room = f"hotline-{caller.call_sid}"
    assert agent.conference == room
    [dequeue] = twilio_api.dequeues()
    assert dequeue.path.endswith(f"/Queues/QU{'0' * 32}/Members/{caller.call_sid}.json")
    assert dequeue.form == {"Url": f"{BASE_URL}/voice/queue/connect", "Method": "POST"}
    # Twilio moved the caller there, requesting the Enqueue action (redirected) at once.
    assert caller.conference == room
    assert agent_status(db, GANG) == "busy"
    # The Enqueue action that Twilio also requests (here again, as a retry) changes nothing.
    assert f">{room}<" in caller.post(enqueue_action, {"QueueResult": "redirected"})
    caller.conference_ends(seconds=95)  # the agent's Dial completes too
    assert "请为本次服务评价" in caller.text
    assert "通话已结束" in agent.text and agent_status(db, GANG) == "wrap_up"
    agent.silence()
    assert agent_status(db, GANG) == "available" and agent.hung_up
    db.rollback()
    row = db.scalars(select(Call).where(Call.call_sid == caller.call_sid)).one()
    assert row.agent_id == GANG["id"] and row.outcome == "agent"


def test_urgent_callers_come_first(phone) -> None:
    waiting(phone, WANG, ("1",))  # account questions, waiting first
    stolen = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("1").press("3")
    )
    stolen.press("1").press("1").hold(position=1, seconds=5)  # froze it (confirmed): urgent
    agent = signed_in(phone, LINA).press("1")
    assert "紧急：账户被盗" in agent.text and "Emily Chen" in agent.text


@pytest.mark.parametrize(
    ("agent", "gets_her"),
    [
        (GANG, False),  # funds, but Mandarin only
        (SARAH, False),  # English, but no funds skill
        (FANG, True),  # funds and English
    ],
)
def test_skills_and_languages_decide(phone, agent: dict, gets_her: bool) -> None:
    waiting(phone, EMILY, ("2",), language="2")
    call = signed_in(phone, agent).press("1")
    assert ("Emily Chen" in call.text) is gets_her


def test_a_passed_caller_goes_to_the_next_agent(phone, db: Session) -> None:
    waiting(phone, WANG, ("2",))
    first = signed_in(phone, LINA).press("1")
    assert "王小明" in first.text
    second = signed_in(phone, FANG).press("1")
    assert "没有适合您的等待来电" in second.text  # reserved for the first agent
    first.press("2")
    assert "接听下一位来电请按1" in first.text
    assert "王小明" in second.press("1").text


def test_a_caller_who_hung_up_cannot_be_accepted(phone) -> None:
    caller = waiting(phone, WANG, ("2",))
    agent = signed_in(phone, LINA).press("1")
    caller.leave_queue("hangup", seconds=40)
    agent.press("1")
    assert "该客户已被其他坐席接听或已挂断" in agent.text


def test_when_twilio_cannot_move_the_caller_they_keep_their_place(
    phone, twilio_api, db: Session
) -> None:
    caller = waiting(phone, WANG, ("2",))
    twilio_api.fail_next(status=404, code=20404)
    signed_in(phone, LINA).press("1").press("1")
    db.rollback()
    row = db.scalars(select(Call).where(Call.call_sid == caller.call_sid)).one()
    assert row.stage == "queued" and row.agent_id is None and row.offered_agent_id is None
    assert "王小明" in signed_in(phone, FANG).press("1").text


def test_an_english_speaking_agent_hears_an_english_whisper(phone) -> None:
    caller = phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"])
    caller.press("3").press("1")  # hears her failed payment
    caller.press("0").hold(position=1, seconds=10)
    agent = signed_in(phone, SARAH).press("1")
    assert "A verified caller, Emily Chen, speaking English, about transactions and refunds." in (
        agent.text
    )
    assert "They already heard: their latest transaction." in agent.text


def test_the_whisper_names_the_refund_the_caller_asked_for(phone, db: Session) -> None:
    waiting(phone, WANG, ("3", "2", "1"))  # a refund of her latest payment, then 0
    db.rollback()
    ticket = db.scalars(select(RefundTicket.reference)).one()
    agent = signed_in(phone, LINA).press("1")
    assert "王小明" in agent.text
    assert f"退款单号 {spoken.reference(ticket, 'zh')}。" in agent.text


def test_a_caller_reserved_for_an_agent_who_vanished_is_free_again(app, phone) -> None:
    waiting(phone, WANG, ("2",))
    signed_in(phone, LINA).press("1")  # hears the whisper, then hangs up without a key
    assert "没有适合您的等待来电" in signed_in(phone, FANG).press("1").text
    later = OPEN_HOURS + timedelta(minutes=2)
    app.extensions["clock"] = lambda: later
    assert "王小明" in signed_in(phone, FANG).press("1").text


def test_an_agent_who_passed_is_not_offered_that_caller_again(app, phone) -> None:
    waiting(phone, WANG, ("2",))
    lina = signed_in(phone, LINA).press("1")
    assert "王小明" in lina.text
    assert "接听下一位来电请按1" in lina.press("2").text  # passed: back to the menu
    assert "没有适合您的等待来电" in lina.press("1").text
    assert "王小明" in signed_in(phone, FANG).press("1").text  # the next agent is


def test_a_caller_everyone_passed_on_is_offered_again_after_a_while(app, phone) -> None:
    waiting(phone, WANG, ("2",))
    signed_in(phone, LINA).press("1").press("2")
    assert "没有适合您的等待来电" in signed_in(phone, LINA).press("1").text
    later = OPEN_HOURS + timedelta(minutes=3, seconds=1)
    app.extensions["clock"] = lambda: later
    assert "王小明" in signed_in(phone, LINA).press("1").text


def test_an_agent_on_a_call_elsewhere_takes_nobody_on_the_agent_line(
    phone, switch: Switch, twilio_api, runner: FlaskCliRunner, db: Session
) -> None:
    available(db, A05=1)  # Zhou Min, rung in the browser
    emily = emily_waits(phone)
    [ring] = twilio_api.calls()
    in_browser = hears_it(switch, ring).press("1")
    assert in_browser.conference == emily.conference is not None
    wang = waiting(phone, WANG, ("2",))  # top-ups: Zhou's skill too
    # Still talking in the browser, she calls the agent line from her phone.
    line = signed_in(phone, ZHOU).press("1")
    assert "您正在处理其他通话" in line.text and WANG["name"] not in line.text
    assert line.gather is not None and "/agents/menu" in line.gather.action
    assert wang.queued and row(db, wang).offered_agent_id is None
    assert agent_status(db, ZHOU) == "busy"
    checked = runner.invoke(args=["check-data"])
    assert checked.exit_code == 0, checked.output
    in_browser.conference_ends(seconds=60)  # that call over, the next is hers
    assert WANG["name"] in line.press("1").text


def test_an_agent_busy_elsewhere_while_hearing_the_whisper_cannot_accept(
    phone, switch: Switch, twilio_api, db: Session
) -> None:
    wang = waiting(phone, WANG, ("2",))
    line = signed_in(phone, ZHOU).press("1")
    assert WANG["name"] in line.text  # the whisper: Wang is kept for her
    available(db, A05=1)  # set available on the desk meanwhile
    emily = emily_waits(phone)  # rung in the browser for Emily, and takes her there
    [ring] = twilio_api.calls()
    assert hears_it(switch, ring).press("1").conference == emily.conference is not None
    line.press("1")  # accepts Wang on the phone too
    assert "您正在处理其他通话" in line.text and wang.conference is None
    assert wang.queued and row(db, wang).offered_agent_id is None  # free for anyone
    assert agent_status(db, ZHOU) == "busy"


def test_the_whisper_finds_the_callers_ticket_by_its_index_not_a_scan(engine: Engine) -> None:
    """The agent hears the ticket a caller's call opened: with a year of tickets a scan
    of them all would hold every whisper up (PostgreSQL told to avoid one if it can)."""
    query = NAME_AND_TICKET.params(caller_id=1)
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        lines = plan_of(connection, sql, avoid="enable_seqscan")
    assert any("ix_refund_tickets_call_id" in line for line in lines), lines
