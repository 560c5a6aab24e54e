"""The database's consistency checks (``flask --app app check-data``): after a day of
real calls through the simulator, and with some of them still under way, every check
passes; each promise broken directly in the database is caught by its own check alone,
naming the row, and the command exits 1. SQLite and PostgreSQL."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from calls.spool import Spool
from models import (
    Agent,
    AgentCall,
    Call,
    CallbackRequest,
    CallEvent,
    Customer,
    OneTimeCode,
    RefundTicket,
    VerificationAttempt,
    VerificationGuard,
    Voicemail,
)
from models.agents import AgentStage
from models.calls import CallStage
from ops.consistency import examine
from settings import Settings
from telephony.simulator import Leg, RestStandIn, Switch
from tests.calls.faults import held_lock, recording
from tests.demo import DEMO, customer

pytestmark = pytest.mark.usefixtures("demo")

AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA = AGENTS["A01"]
WANG, EMILY = customer(language="zh"), customer(language="en")
NO_PIN, FROZEN = customer(pin=False), customer(status="frozen")
STRANGER = "+8613012345601"  # nobody's number: an unverified caller
LEAVER = "+8613012345602"
NUMBERS = [person["phone"] for person in DEMO["customers"] + DEMO["agents"]] + [STRANGER, LEAVER]


@pytest.fixture(autouse=True)
def twilio_time(app: Flask, switch: Switch) -> None:
    """The app's clock follows the simulated network's (both start at the same moment)."""
    app.extensions["clock"] = lambda: switch.clock.start + timedelta(seconds=switch.clock.now)


def code_in(message: dict[str, str]) -> str:
    found = re.search(r"(?<!\d)\d{6}(?!\d)", message["Body"])
    assert found, message["Body"]
    return found.group()


def verified(phone, who: dict, language: str) -> Leg:  # noqa: ANN001
    call = phone(who["phone"]).dial().press(language).press("#").press(who["pin"])
    assert "主菜单" in call.text or "Main menu" in call.text
    return call


def agent_line(phone, agent: dict) -> Leg:  # noqa: ANN001
    return phone(agent["phone"]).dial("/agents/incoming").press(agent["pin"])


@pytest.fixture
def day(phone, switch: Switch, twilio_api: RestStandIn) -> dict[str, Leg]:  # noqa: ANN001
    """A morning's calls, each as Twilio drives it; some still under way at the end."""
    wang = verified(phone, WANG, "1")
    wang.say("我的密码是246810")  # a PIN said at a menu (kept masked): the password menu
    wang.press("*").press("3").press("2").press("1")  # a refund of the last payment
    wang.hang_up()
    coded = phone(NO_PIN["phone"]).dial().press("1").press("#").press("*")
    [sms] = twilio_api.messages()
    coded.press(code_in(sms))  # verified by the code texted
    coded.hang_up()
    guesser = phone(EMILY["phone"]).dial().press("2").press("#").press("0000")  # a wrong PIN
    guesser.hang_up()
    # A caller an agent takes from the agent line, talks to, and who rates the call.
    caller = verified(phone, EMILY, "2").press("0")
    caller.hold(position=1, seconds=20)
    lina = agent_line(phone, LINA).press("1").press("1")
    assert lina.conference == caller.conference is not None
    lina.conference_ends(seconds=60)
    caller.press("5")
    # A caller who asks for a callback while waiting; the agent calls them back.
    asker = phone(STRANGER).dial().press("1").press("0")
    asker.hold(position=1, seconds=70)
    asker.press_during_music("1")
    assert asker.hung_up
    lina.press("1")  # wrap-up done: the next piece of work, the callback
    lina.press("1")  # accepted: the customer's phone rings
    back = switch.phone(STRANGER).call
    assert back is not None
    back.press("1")
    assert back.conference == lina.conference is not None
    lina.hang_up()
    back.hang_up()
    # A caller who waited too long leaves a voicemail.
    leaver = phone(LEAVER).dial().press("1").press("0")
    leaver.hold(seconds=600)
    leaver.press("1").leave_message(duration=15)
    assert leaver.hung_up
    # Still under way: a caller waiting, an agent at the agent line's menu.
    waiting = verified(phone, WANG, "1").press("0")
    waiting.hold(position=1, seconds=20)
    at_menu = agent_line(phone, AGENTS["A04"])
    return {"waiting": waiting, "agent": at_menu}


def check_data(runner: FlaskCliRunner) -> tuple[int, dict[str, list[str]]]:
    """The command's exit code, and each failed check's name with the rows it names."""
    result = runner.invoke(args=["check-data"])
    # Rows are named by ids, never by a phone number, whole or in part.
    assert not [number for number in NUMBERS if number[-8:] in result.output], result.output
    failed: dict[str, list[str]] = {}
    current: list[str] = []
    for line in result.output.splitlines():
        if line.startswith("FAIL  "):
            current = failed.setdefault(line[6:].split(":")[0], [])
        elif line.startswith("ok  "):
            current = []
        elif line.startswith("        "):
            current.append(line.strip())
    return result.exit_code, failed


def test_every_check_passes_after_real_calls(
    day: dict[str, Leg], runner: FlaskCliRunner, db: Session
) -> None:
    # Not vacuously: the day left rows in every table the checks read.
    for model in (
        RefundTicket,
        OneTimeCode,
        VerificationGuard,
        VerificationAttempt,
        CallbackRequest,
        Voicemail,
        AgentCall,
    ):
        assert db.scalars(select(model)).first() is not None, model.__tablename__
    assert db.scalars(select(Call).where(Call.stage == CallStage.QUEUED)).first() is not None
    result = runner.invoke(args=["check-data"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output


# --- each promise broken by hand ---------------------------------------------------------


def sqlite_file(database_url: str) -> sqlite3.Connection:
    """Another tool writing to the file: no foreign keys, unless it turns them on."""
    return sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)


def call_of(db: Session, leg: Leg) -> Call:
    return db.scalars(select(Call).where(Call.call_sid == leg.call_sid)).one()


def first(db: Session, model, *where):  # noqa: ANN001, ANN002, ANN201
    """The first row of ``model`` by id (that ``where`` picks)."""
    return db.scalars(select(model).where(*where).order_by(model.id)).first()


def a_language_no_schema_allows(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    with sqlite_file(database_url) as connection:
        connection.execute("PRAGMA ignore_check_constraints = ON")
        connection.execute("UPDATE customers SET language = 'xx' WHERE id = ?", (FROZEN["id"],))
    return "CHECK constraint failed in customers"


def an_event_of_no_call(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    with sqlite_file(database_url) as connection:
        event_id = connection.execute("SELECT min(id) FROM call_events").fetchone()[0]
        connection.execute("UPDATE call_events SET call_id = 999 WHERE id = ?", (event_id,))
    return f"call_events row {event_id} names a missing calls"


def an_ended_call_back_at_a_menu(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    call = first(db, Call, Call.ended_at.is_not(None))
    db.execute(update(Call).where(Call.id == call.id).values(stage=CallStage.MENU))
    return f"call {call.id}"


def a_waiting_caller_without_a_place(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    call = call_of(db, day["waiting"])
    db.execute(update(Call).where(Call.id == call.id).values(queued_at=None))
    return f"call {call.id}"


def a_waiting_caller_with_an_agent(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    call = call_of(db, day["waiting"])
    db.execute(update(Call).where(Call.id == call.id).values(agent_id="A02"))
    return f"call {call.id}"


def a_verified_call_without_its_proof(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    call = first(db, Call, Call.customer_id == NO_PIN["id"])
    db.execute(VerificationAttempt.__table__.delete().where(VerificationAttempt.call_id == call.id))
    return f"call {call.id}"


def a_pin_heard_in_the_clear(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    call = call_of(db, day["waiting"])
    data = {"menu": "main", "key": "1", "speech": "my pin is 246810"}
    event = CallEvent(call_id=call.id, kind="menu.chosen", data=data, at=call.started_at)
    db.add(event)
    db.commit()
    return f"call event {event.id}"


def a_count_at_the_limit_without_a_lock(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    subject = f"customer:{EMILY['id']}"
    db.execute(
        update(VerificationGuard)
        .where(VerificationGuard.subject == subject)
        .values(consecutive_failures=Settings.model_validate({}).verification_lockout_failures)
    )
    return f"guard {subject}"


def a_second_code_in_flight(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    code = first(db, OneTimeCode)
    assert code.used_at is not None and code.used_at > code.created_at  # keyed a while later
    while_live = code.created_at + (code.used_at - code.created_at) / 2
    second = OneTimeCode(
        customer_id=code.customer_id,
        code_hash="hmac-sha256-v1$" + "0" * 64,
        created_at=while_live,
        expires_at=while_live + timedelta(minutes=5),
    )
    db.add(second)
    db.commit()
    return f"code {second.id}"


def a_code_for_ten_minutes(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    code = first(db, OneTimeCode)
    expires = code.created_at + timedelta(minutes=10)
    db.execute(update(OneTimeCode).where(OneTimeCode.id == code.id).values(expires_at=expires))
    return f"code {code.id}"


def an_unconfirmed_agent_at_the_menu(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    leg = db.scalars(select(AgentCall).where(AgentCall.call_sid == day["agent"].call_sid)).one()
    assert leg.stage == AgentStage.MENU
    db.execute(update(AgentCall).where(AgentCall.id == leg.id).values(confirmed=False))
    return f"agent call {leg.id}"


def a_status_nobody_wrote_down(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    db.execute(update(Agent).where(Agent.id == "A03").values(status="available"))
    return "agent A03"


def a_callback_calling_with_nobody(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    callback = first(db, CallbackRequest)
    db.execute(
        update(CallbackRequest).where(CallbackRequest.id == callback.id).values(status="calling")
    )
    return f"callback {callback.id}"


def a_miss_counted_twice(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    callback = first(db, CallbackRequest)
    db.execute(update(CallbackRequest).where(CallbackRequest.id == callback.id).values(attempts=2))
    return f"callback {callback.id}"


def a_voicemail_done_at_no_time(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    voicemail = first(db, Voicemail)
    db.execute(update(Voicemail).where(Voicemail.id == voicemail.id).values(status="done"))
    return f"voicemail {voicemail.id}"


def a_recording_on_this_machine(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    voicemail = first(db, Voicemail)
    url = "file:///etc/passwd"
    db.execute(update(Voicemail).where(Voicemail.id == voicemail.id).values(recording_url=url))
    return f"voicemail {voicemail.id}"


def a_voicemail_naming_a_customer(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    voicemail = first(db, Voicemail)
    assert voicemail.customer_id is None  # left by a caller nobody verified
    db.execute(update(Voicemail).where(Voicemail.id == voicemail.id).values(customer_id=WANG["id"]))
    return f"voicemail {voicemail.id}"


def a_customer_without_an_account(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    frozen = db.get(Customer, FROZEN["id"])
    db.delete(frozen.account)  # and its transactions, as the model cascades
    db.commit()
    return f"customer {FROZEN['id']}"


def a_refund_for_another_customer(db: Session, database_url: str, day: dict[str, Leg]) -> str:
    ticket = first(db, RefundTicket)
    db.execute(
        update(RefundTicket).where(RefundTicket.id == ticket.id).values(customer_id=EMILY["id"])
    )
    return f"refund ticket {ticket.id}"


BREAKS = {
    "sqlite-file": a_language_no_schema_allows,
    "foreign-keys": an_event_of_no_call,
    "ended-calls": an_ended_call_back_at_a_menu,
    "waiting-callers": a_waiting_caller_without_a_place,
    "callers-agents": a_waiting_caller_with_an_agent,
    "verified-calls": a_verified_call_without_its_proof,
    "heard-digits": a_pin_heard_in_the_clear,
    "lockout-guards": a_count_at_the_limit_without_a_lock,
    "sms-codes": a_second_code_in_flight,
    "agent-calls": an_unconfirmed_agent_at_the_menu,
    "agent-statuses": a_status_nobody_wrote_down,
    "callback-states": a_callback_calling_with_nobody,
    "callback-attempts": a_miss_counted_twice,
    "voicemail-states": a_voicemail_done_at_no_time,
    "voicemail-recordings": a_recording_on_this_machine,
    "follow-up-customers": a_voicemail_naming_a_customer,
    "customer-accounts": a_customer_without_an_account,
    "refund-tickets": a_refund_for_another_customer,
}
CASES = [pytest.param(name, breaks, id=breaks.__name__) for name, breaks in BREAKS.items()]
CASES.append(pytest.param("sms-codes", a_code_for_ten_minutes, id=a_code_for_ten_minutes.__name__))


@pytest.mark.parametrize(("name", "breaks"), CASES)
def test_a_broken_promise_is_caught_by_its_own_check_alone(
    day: dict[str, Leg], runner: FlaskCliRunner, db: Session, database_url: str, name: str, breaks
) -> None:
    if name in ("sqlite-file", "foreign-keys") and not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps these itself: a row breaking them cannot be written")
    offender = breaks(db, database_url, day)
    code, failed = check_data(runner)
    assert code == 1
    assert list(failed) == [name]
    assert offender in failed[name]


def test_the_function_for_programs_outside_the_app_says_the_same(
    day: dict[str, Leg], db: Session, database_url: str, settings: Settings
) -> None:
    assert settings.spool_dir is not None
    results = examine(database_url, settings.spool_dir)
    assert results and all(result.ok for result in results)
    offender = a_refund_for_another_customer(db, database_url, day)
    [failed] = [result for result in examine(database_url, settings.spool_dir) if not result.ok]
    assert failed.check.name == "refund-tickets" and failed.offenders == [offender]


def test_a_recording_kept_while_the_database_was_down_fails_until_replayed(
    day: dict[str, Leg], runner: FlaskCliRunner, app: Flask, db: Session
) -> None:
    spool: Spool = app.extensions["spool"]
    waiting = spool.keep(recording(caller=STRANGER))
    # One replayed whose file stayed behind (a crash before it was removed), and one
    # that is no recording at all.
    voicemail = first(db, Voicemail)
    replayed = recording(caller=STRANGER, sid=voicemail.recording_sid)
    left_behind = spool.keep(replayed.model_copy(update={"call_sid": "CA" + "6" * 32}))
    (spool.directory / "stray.json").write_text("{}")
    code, failed = check_data(runner)
    assert code == 1 and list(failed) == ["spool"]
    assert sorted(failed["spool"]) == sorted(
        [
            f"spool file {waiting.name}: not in the database yet (flask spool replay)",
            f"spool file {left_behind.name}: voicemail {voicemail.id} already"
            " (the next replay removes it)",
            "spool file stray.json: not a recording (the next replay sets it aside)",
        ]
    )
    runner.invoke(args=["spool", "replay"])  # the stray file set aside, the others gone
    code, failed = check_data(runner)
    assert failed == {
        "spool": ["spool file stray.rejected: set aside, not a recording (calls.spool)"]
    }
    (spool.directory / "stray.rejected").unlink()  # looked at by an operator
    assert check_data(runner) == (0, {})


def test_the_checks_take_no_write_lock(
    day: dict[str, Leg], runner: FlaskCliRunner, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's read-only snapshot is the same, but no write lock blocks reads")
    with held_lock(database_url):  # a webhook's transaction, say
        assert check_data(runner) == (0, {})


def test_the_help_says_what_it_does(runner: FlaskCliRunner) -> None:
    help_text = runner.invoke(args=["check-data", "--help"]).output
    assert "Check that the data is whole" in help_text and "Exits 1" in help_text
