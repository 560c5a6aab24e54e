"""Calls at the console: found by local date, outcome, branch, customer and the last
digits of the number (never shown in full), a page at a time; a call's timeline, from a
whole call played through the simulator, tells its path, verification, wait, agent,
wrap-up and rating, and never a PIN."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Call
from reports import calls as found_calls
from reports.calls import CallQuery, search
from telephony.simulator import Switch
from tests.admin.consoles import SUPERVISOR, Console
from tests.desk.test_calls import at_desk, call_id, emily_waits, phone_of
from tests.queueing.test_agent_line import EMILY, FANG
from tests.queueing.test_callbacks import twilio_time  # noqa: F401 - the clock follows Twilio's

# Local (Shanghai) days: 24 November begins at 16:00 UTC on the 23rd.
LATE_ON_23RD = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 23:30 local, the 23rd
EARLY_ON_24TH = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 00:30 local, the 24th


def a_call(n: int, caller: str | None, started_at: datetime, **values: object) -> Call:
    return Call(call_sid=f"CA{n:032d}", caller=caller, started_at=started_at, **values)


@pytest.fixture
def calls(db: Session, demo: None) -> dict[str, int]:
    """Calls whose every attribute a search looks at is known: their ids by name."""
    made = {
        "funds_agent": a_call(
            1,
            "+8613800001234",
            EARLY_ON_24TH,
            outcome="agent",
            queue="funds",
            menu="funds",
            customer_id="C1001",
            verified=True,
        ),
        "self_served_in_transactions": a_call(
            2, "+8613900005678", LATE_ON_23RD, outcome="self_served", menu="transactions"
        ),
        "abandoned_urgent": a_call(
            3,
            "+8613811112234",
            EARLY_ON_24TH + timedelta(hours=1),
            outcome="abandoned",
            queue="urgent",
            menu="stolen",
        ),
        "withheld_no_menu": a_call(4, None, EARLY_ON_24TH, outcome="hung_up"),
        "claimed_only": a_call(
            5,
            "+8613800138000",
            LATE_ON_23RD,
            outcome="hung_up",
            menu="main",
            claimed_customer_id="C1001",
        ),
    }
    db.add_all(made.values())
    db.commit()
    return {name: call.id for name, call in made.items()}


def found(db: Session, app: Flask, **query: object) -> set[int]:
    return {call.id for call in search(db, app.extensions["flow"], CallQuery(**query)).calls}


def test_each_filter_finds_its_calls_and_no_other(
    db: Session, app: Flask, calls: dict[str, int]
) -> None:
    ids = calls
    assert found(db, app, digits="1234") == {ids["funds_agent"]}
    assert found(db, app, digits="34") == {ids["funds_agent"], ids["abandoned_urgent"]}
    assert found(db, app, digits="9999") == set()
    the_24th = date(2026, 11, 24)
    assert found(db, app, first_day=the_24th, last_day=the_24th) == {
        ids["funds_agent"],
        ids["abandoned_urgent"],
        ids["withheld_no_menu"],
    }
    assert found(db, app, last_day=date(2026, 11, 23)) == {
        ids["self_served_in_transactions"],
        ids["claimed_only"],
    }
    assert found(db, app, outcome="agent") == {ids["funds_agent"]}
    assert found(db, app, outcome="hung_up") == {ids["withheld_no_menu"], ids["claimed_only"]}
    # The queue waited in, else where the last menu leads; no menu, no branch.
    assert found(db, app, branch="transactions") == {ids["self_served_in_transactions"]}
    assert found(db, app, branch="urgent") == {ids["abandoned_urgent"]}
    assert found(db, app, branch="general") == {ids["claimed_only"]}  # main leads to general
    # The customer verified on the call, or only claimed by its number.
    assert found(db, app, customer_id="C1001") == {ids["funds_agent"], ids["claimed_only"]}
    both = found(db, app, customer_id="C1001", first_day=the_24th)
    assert both == {ids["funds_agent"]}


def test_the_page_finds_a_call_by_its_last_four_digits_and_never_shows_the_number(
    supervisor: Console, calls: dict[str, int]
) -> None:
    page = supervisor.page("/admin/calls?digits=1234&from=&outcome=")
    rows = re.findall(r'<tr data-call="(\d+)">', page)
    assert rows == [str(calls["funds_agent"])]
    assert "*******1234" in page and "+8613800001234" not in page
    assert "top-ups and withdrawals" in page and "talked to an agent" in page
    assert "2026-11-24 00:30:00" in page  # in Shanghai time
    assert f'href="/admin/calls/{calls["funds_agent"]}"' in page


WRONG_SEARCHES = {
    "digits=12345": "digits: the last 2 to 4 digits of the number",
    "digits=12a4": "digits: the last 2 to 4 digits of the number",
    "from=2026-13-01": "from: ",
    "from=2026-11-25&to=2026-11-24": "from: the first day comes after the last",
    "branch=money": "branch: one of general",
    "outcome=won": "outcome: one of self_served",
    "page=0": "page: ",
}


def test_a_wrong_search_is_said_not_failed(supervisor: Console) -> None:
    for query, said in WRONG_SEARCHES.items():
        answer = supervisor.client.get(f"/admin/calls?{query}")
        assert answer.status_code == 400, query
        error = re.search(r'<p id="search-error"[^>]*>(.*?)</p>', answer.get_data(as_text=True))
        assert error is not None and said in error[1], query


@pytest.mark.usefixtures("twilio_time")
def test_the_timeline_of_a_whole_call(
    supervisor: Console, client: FlaskClient, app: Flask, phone, switch: Switch, db: Session
) -> None:
    """Emily, in English, verified by PIN, hears her latest transaction, asks for an
    agent and waits; Fang accepts on the desk, they talk, Fang wraps up with notes and
    Emily rates the call."""
    caller = emily_waits(phone, "3", "1")
    desk = at_desk(app.test_client(), FANG)
    phone_of(switch, FANG).press("1")
    desk.post("/desk/accept", call=call_id(db, caller))
    switch.wait(95)
    phone_of(switch, FANG).hang_up()
    caller.press("5")  # in English, 5 is the best
    desk.post("/desk/wrap-up", disposition="escalated", notes="Bank to confirm by Friday.")

    page = supervisor.page(f"/admin/calls/{call_id(db, caller)}")
    timeline = " | ".join(
        re.sub(r"<[^>]+>", "", row) for row in re.findall(r"<tr data-kind=.*?</tr>", page, re.S)
    )
    assert "Language: English" in timeline
    assert "Verified by PIN (the customer found by caller ID)" in timeline
    assert "Menu main: pressed 3 → menu transactions" in timeline
    assert "Menu transactions: pressed 1 → their latest transaction" in timeline
    assert "Heard their latest transaction" in timeline
    assert "Queued for transactions and refunds" in timeline
    assert "王芳 took the call" in timeline
    talked = re.search(r"Talked with 王芳 for (\d+:\d\d)", timeline)
    assert talked is not None and f'<td id="talk">{talked[1]}</td>' in page
    assert "Rated the call 5/5" in timeline
    # The wait runs from joining the queue to the agent's taking the call.
    queued, taken = (
        datetime.strptime(re.search(rf"(\d\d:\d\d:\d\d)</td><td>{what}", page)[1], "%H:%M:%S")
        for what in ("Queued for", "王芳 took the call")
    )
    waited = int((taken - queued).total_seconds())
    assert waited >= 20 and f'<td id="waited">{waited // 60}:{waited % 60:02d}</td>' in page
    assert '<td id="agent">王芳</td>' in page
    assert '<td id="outcome">talked to an agent</td>' in page
    assert '<td id="rating">5/5</td>' in page
    assert '<span class="disposition">Escalated</span>' in page
    assert "Bank to confirm by Friday." in page
    assert "C1003 · Emily Chen (verified)" in page
    # Never the PIN, nor the number in full.
    without_tokens = re.sub(r'(content|value)="[^"]*"', "", page)
    assert EMILY["pin"] not in without_tokens
    assert EMILY["phone"] not in page and "*******7000" in page


def test_strangers_see_no_call_and_a_missing_call_is_404(
    console: Console, calls: dict[str, int]
) -> None:
    assert console.client.get("/admin/calls").status_code == 302
    assert console.client.get(f"/admin/calls/{calls['funds_agent']}").status_code == 302
    console.sign_in(*SUPERVISOR)
    assert console.client.get(f"/admin/calls/{calls['funds_agent']}").status_code == 200
    assert console.client.get("/admin/calls/99999").status_code == 404
    assert console.client.get(f"/admin/calls/{2**40}").status_code == 404


def test_newest_first_a_page_at_a_time(
    db: Session, app: Flask, calls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(found_calls, "PAGE_SIZE", 2)
    flow = app.extensions["flow"]
    pages = [search(db, flow, CallQuery(page=page)) for page in (1, 2, 3)]
    assert [page.more for page in pages] == [True, True, False]
    shown = [call.started_at for page in pages for call in page.calls]
    assert len(shown) == 5 and shown == sorted(shown, reverse=True)
