"""Where callers went in the flow (reports.traffic): counted from calls played through the
phone simulator, and from generated calls whose way through the flow the test knows."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from flowfile.flow import Flow
from reports.period import Period
from reports.traffic import traffic
from tests.conftest import OPEN_HOURS
from tests.demo import customer
from tests.flowfile.flows import shipped_flow

WANG = customer(language="zh")
EMILY = customer(language="en")
STRANGER = "+8613012345678"
FLOW = shipped_flow()


def today(flow: Flow) -> Period:
    """The local day of the tests' clock."""
    day = OPEN_HOURS.astimezone(ZoneInfo(flow.timezone)).date()
    return Period.from_dates(day, day, flow.timezone)


@pytest.mark.usefixtures("demo")
def test_calls_played_through_the_simulator_are_counted_where_they_went(phone, db: Session) -> None:
    phone(WANG["phone"]).dial().hang_up()  # at the greeting
    # Verified, to the funds menu, the latest top-up (an answer), then gone.
    phone(WANG["phone"]).dial().press("1").press(WANG["pin"]).press("2").press("3").hang_up()
    # Verified, into the account menu, and gone without choosing.
    phone(EMILY["phone"]).dial().press("2").press(EMILY["pin"]).press("1").hang_up()
    # Verified, an agent from the main menu, and gone while waiting.
    phone(WANG["phone"]).dial().press("1").press(WANG["pin"]).press("0").hang_up()
    # A stranger asks for an agent instead of keying a number.
    phone(STRANGER).dial().press("1").press("0").hang_up()
    # Three wrong PINs, the menus anyway (1 at the offer), gone at the main menu.
    wrong = phone(WANG["phone"]).dial().press("1")
    for _ in range(3):
        wrong.press("000000")
    wrong.press("1").hang_up()

    found = traffic(db, FLOW, today(FLOW))

    assert (found.calls, found.greeting_dropped, found.verifying) == (6, 1, 5)
    assert (found.verified, found.failed, found.locked) == (3, 1, 0)
    assert (found.verification_to_agent, found.verification_dropped, found.to_menus) == (1, 0, 4)
    main, funds, account = found.menu("main"), found.menu("funds"), found.menu("account")
    assert (main.entered, main.answered, main.dropped, main.to_agent) == (4, 0, 1, 1)
    assert main.chosen == {"2": 1, "1": 1, "0": 1}
    assert (funds.entered, funds.answered, funds.dropped, funds.given) == (1, 1, 0, {"3": 1})
    assert (account.entered, account.answered, account.dropped) == (1, 0, 1)
    assert found.menu("guides").entered == 0
    assert found.queued == 2 and found.after_queue["abandoned"] == 2
    assert found.queues == {"general": 2}
