"""The live wallboard (/admin): what an operator sees of queues, agents and today's
figures while the phone simulator plays callers and agents, checked against what each
test made happen; and the definitions behind the figures, on rows built by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.live import (
    SHORT_ABANDON_SECONDS,
    Wait,
    abandonment,
    average_speed_of_answer,
    local_midnight,
    service_level,
    short_abandon,
)
from telephony.simulator import Leg
from tests.admin.consoles import Console
from tests.conftest import OPEN_HOURS
from tests.demo import DEMO, customer

EMILY = customer(language="en")
WANG = customer(language="zh")
AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
FANG = AGENTS["A04"]  # top-ups and transactions, English
SARAH = AGENTS["A03"]  # transactions and guides, English
STRANGER = "+8613012345678"


class Clock:
    """Hotline's clock, moved on by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock(app: Flask) -> Clock:
    clock = Clock(OPEN_HOURS)
    app.extensions["clock"] = clock
    return clock


def board(console: Console) -> dict[str, Any]:
    answer = console.client.get("/admin/wallboard.json")
    assert answer.status_code == 200
    return answer.get_json()


def queue(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    return next(q for q in snapshot["board"]["queues"] if q["name"] == name)


def agent(snapshot: dict[str, Any], agent_id: str) -> dict[str, Any]:
    return next(a for a in snapshot["board"]["agents"] if a["id"] == agent_id)


def queued(phone, who: dict = EMILY) -> Leg:  # noqa: ANN001
    """``who`` verifies, hears their latest top-up or withdrawal and asks for an agent."""
    call = (
        phone(who["phone"]).dial().press("2" if who is EMILY else "1").press("#").press(who["pin"])
    )
    call.press("2").press("3").press("0")
    assert call.queued
    return call


# --- the door ------------------------------------------------------------------------------


def test_the_wallboard_is_the_console_home_and_only_for_operators(console: Console) -> None:
    wall = console.client.get("/admin")
    assert wall.status_code == 302 and wall.headers["Location"].startswith("/admin/login")
    assert console.client.get("/admin/wallboard.json").status_code == 401
    signed = console.sign_in("supervisor", "hotline-supervisor")
    assert signed.headers["Location"] == "/admin"  # where an operator lands
    page = console.page("/admin")
    assert 'id="queues"' in page and "李娜" in page  # agents' Chinese names as they are


# --- what the board shows ------------------------------------------------------------------


def test_waiting_callers_show_in_their_queue_with_the_oldest_wait(
    supervisor: Console, phone, clock: Clock
) -> None:
    empty = board(supervisor)
    assert empty["board"]["queues"][0]["name"] == "urgent"  # urgent first
    assert queue(empty, "funds")["waiting"] == 0
    queued(phone, EMILY)
    clock.advance(30)
    queued(phone, WANG)
    clock.advance(45)
    now = board(supervisor)
    funds = queue(now, "funds")
    assert funds["waiting"] == 2
    assert funds["oldest_wait"] == 75  # Emily's, by Hotline's clock
    assert all(q["waiting"] == 0 for q in now["board"]["queues"] if q["name"] != "funds")
    assert 'data-queue="funds" data-waiting="2"' in now["parts"]["queues"]
    assert "1:15" in now["parts"]["queues"]


def test_a_rung_agent_shows_the_caller_masked_and_callbacks_wait_by_topic(
    supervisor: Console, phone, clock: Clock
) -> None:
    phone(SARAH["phone"]).dial("/agents/incoming").press(SARAH["pin"]).press("2")  # available
    emily = queued(phone, EMILY)  # top-ups: not Sarah's
    clock.advance(90)
    emily.hold(seconds=90).press("1")  # a callback instead of waiting
    assert emily.hung_up
    stranger = phone(STRANGER).dial().press("2").press("0")  # English; an agent, unverified
    assert stranger.queued
    answer = supervisor.client.get("/admin/wallboard.json")
    assert STRANGER[3:] not in answer.get_data(as_text=True)  # never the number in full
    snapshot = answer.get_json()
    assert (queue(snapshot, "funds")["waiting"], queue(snapshot, "funds")["callbacks"]) == (0, 1)
    general = queue(snapshot, "general")
    assert (general["waiting"], general["offered"]) == (1, 1)
    rung = agent(snapshot, SARAH["id"])
    assert rung["caller"] == "+86*******5678" and rung["offered"] is True
    assert rung["topic"] == "general"
    phone(FANG["phone"]).dial("/agents/incoming").press(FANG["pin"]).press("2")  # available
    called_back = agent(board(supervisor), FANG["id"])  # rung at once for Emily's callback
    assert (called_back["caller"], called_back["topic"]) == (EMILY["name"], "funds")
    assert called_back["offered"] is True


def test_an_agent_on_a_call_shows_the_caller_and_the_answer_counts_today(
    supervisor: Console, phone, clock: Clock
) -> None:
    caller = queued(phone, EMILY)
    caller.hold(position=1, seconds=5)  # the wait document: Twilio's queue is known
    clock.advance(12)
    fang = phone(FANG["phone"]).dial("/agents/incoming").press(FANG["pin"]).press("1")
    fang.press("1")  # accepts Emily after the whisper
    assert caller.conference is not None
    clock.advance(20)
    on_call = agent(board(supervisor), FANG["id"])
    assert on_call["status"] == "busy" and on_call["seconds_in_status"] == 20
    assert on_call["caller"] == EMILY["name"]  # verified: named
    assert on_call["topic"] == "funds" and on_call["offered"] is False
    caller.conference_ends(seconds=60)
    caller.press("5")
    today = board(supervisor)["board"]["today"]
    assert today["queued"] == today["handled"] == today["answered_within"] == 1
    assert today["service_level"] == 1.0
    assert today["average_speed_of_answer"] == 12.0
    assert (today["ratings"], today["average_rating"]) == (1, 5.0)
    assert (today["verification_tried"], today["verified"]) == (1, 1)
    # She heard an answer, then queued: self-service did not contain her call.
    assert (today["contained"], today["reached_menu"]) == (0, 1)


def test_abandons_under_five_seconds_are_counted_apart(
    supervisor: Console, phone, clock: Clock
) -> None:
    quick = queued(phone)
    clock.advance(SHORT_ABANDON_SECONDS - 2)
    quick.hang_up()
    patient = queued(phone)
    clock.advance(60)
    patient.hang_up()
    queued(phone)  # still waiting: in no rate until their wait is over
    snapshot = board(supervisor)
    today = snapshot["board"]["today"]
    assert today["queued"] == 3
    assert (today["abandoned"], today["short_abandoned"]) == (1, 1)
    assert today["abandonment"] == 1.0  # one counted wait, abandoned
    assert today["service_level"] == 0.0
    assert today["average_speed_of_answer"] is None
    assert 'data-value="1" data-short="1"' in snapshot["parts"]["today"]


def test_self_service_failed_pins_and_a_lockout_today(
    supervisor: Console, phone, clock: Clock
) -> None:
    served = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("2").press("3")
    )
    served.hang_up()  # heard her latest top-up: served without an agent
    for _ in range(2):  # five wrong PINs in a row lock Wang's phone verification
        call = phone(WANG["phone"]).dial().press("1")
        for _ in range(3):
            call.press("#").press("000000")
        call.hang_up()
    today = board(supervisor)["board"]["today"]
    assert (today["contained"], today["reached_menu"], today["containment"]) == (1, 1, 1.0)
    assert (today["verified"], today["verification_tried"]) == (1, 3)
    assert today["lockouts"] == 1
    assert today["calls"] == 3


# --- the definitions -----------------------------------------------------------------------

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def wait(
    answered: float | None = None, hung_up: float | None = None, *, waiting: bool = False
) -> Wait:
    """A wait of one caller queued at T0: answered, or hung up, after so many seconds."""
    at = lambda seconds: None if seconds is None else T0 + timedelta(seconds=seconds)  # noqa: E731
    ended = at(hung_up) if hung_up is not None else at(answered)
    return Wait(T0, at(answered), ended, hung_up is not None, waiting)


def test_service_level_counts_answers_within_the_threshold_over_waits_that_are_over() -> None:
    waits = [wait(answered=5), wait(answered=20), wait(answered=21), wait(hung_up=30)]
    assert service_level(waits, 20) == 2 / 4
    still = [*waits, wait(waiting=True)]
    assert service_level(still, 20) == 2 / 4  # a caller still waiting is not yet counted
    assert service_level([], 20) is None


def test_short_abandons_stay_out_of_the_rates() -> None:
    short, long = wait(hung_up=SHORT_ABANDON_SECONDS - 0.5), wait(hung_up=SHORT_ABANDON_SECONDS)
    assert short_abandon(short) and not short_abandon(long)
    waits = [short, long, wait(answered=10)]
    assert abandonment(waits) == 1 / 2
    assert service_level(waits, 20) == 1 / 2
    assert average_speed_of_answer(waits) == 10.0


def test_a_day_begins_at_midnight_in_the_flows_time_zone() -> None:
    # 01:30 UTC is 09:30 in Shanghai: the day began at 16:00 UTC the evening before.
    midnight = local_midnight(datetime(2026, 11, 24, 1, 30, tzinfo=UTC), "Asia/Shanghai")
    assert midnight.astimezone(UTC) == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


seconds = st.integers(min_value=0, max_value=900)


@settings(max_examples=40, deadline=None)
@given(
    answered=st.lists(seconds, max_size=6),
    abandoned=st.lists(seconds, max_size=6),
    short=st.lists(st.integers(0, SHORT_ABANDON_SECONDS - 1), min_size=1, max_size=4),
)
def test_rates_do_not_move_with_short_abandons_and_answers_and_abandons_never_exceed_all(
    answered: list[int], abandoned: list[int], short: list[int]
) -> None:
    waits = [wait(answered=s) for s in answered] + [
        wait(hung_up=max(s, SHORT_ABANDON_SECONDS)) for s in abandoned
    ]
    with_short = waits + [wait(hung_up=s) for s in short]
    assert service_level(with_short, 20) == service_level(waits, 20)
    assert abandonment(with_short) == abandonment(waits)
    answered_share, abandoned_share = service_level(waits, 900), abandonment(waits)
    if waits:
        assert answered_share is not None and abandoned_share is not None
        assert answered_share + abandoned_share == pytest.approx(1.0)
