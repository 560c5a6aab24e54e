"""Random walks through the menus: keys, silence and speech, verified or not.

Whatever a caller does, every answer is well-formed TwiML (the phone driver
checks each one), never a server error, and no unverified caller hears a
word of account data or changes anything.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flowfile.flow import Flow
from models import Customer, RefundTicket
from telephony.simulator import Leg
from tests.demo import customer

pytestmark = pytest.mark.usefixtures("demo")

WANG = customer(language="zh")
DATA_ANSWERS = (
    "account_active",
    "account_frozen",
    "funds_movement",
    "no_funds_movement",
    "transaction",
    "no_transaction",
    "refund_recorded",
    "refund_not_possible",
    "freeze_done",
)
spoken = st.sampled_from(
    [
        "退款",
        "充值",
        "人工",
        "返回",
        "重复",
        "冻结",
        "refund",
        "agent",
        "back",
        "stolen",
        "top up",
        "latest",
        "",
        "嗯",
        "hello there",
    ]
)
step = st.one_of(
    st.sampled_from(list("1234")),  # the menu keys, often: the answers lie behind them
    st.sampled_from(list("0123456789*#")),
    st.none(),  # silence
    st.tuples(st.just("say"), spoken | st.text(max_size=30)),
)


def account_words(flow: Flow) -> list[str]:
    """The opening words of every answer built from account data, in both languages."""
    return [
        getattr(flow.answers, name)[language].split("{")[0][:8]
        for name in DATA_ANSWERS
        for language in ("zh", "en")
    ]


def walk(call: Leg, steps: list) -> list[str]:  # noqa: ANN001
    heard = []
    for action in steps:
        if call.gather is None:
            break
        if action is None:
            call.silence()
        elif isinstance(action, tuple):
            call.say(action[1]) if "speech" in call.gather.attributes["input"] else call.silence()
        else:
            call.press(action)
        heard.append(call.text)
    return heard


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(language=st.sampled_from(["1", "2"]), steps=st.lists(step, max_size=25))
def test_unverified_callers_hear_no_account_data_wherever_they_go(
    phone, app, db: Session, language: str, steps: list
) -> None:
    # Calling from a customer's own phone, but keying no PIN: three silences.
    call = phone(WANG["phone"]).dial().press(language).silence().silence().silence()
    call.press("1")  # on to the menu without verification
    heard = " ".join(walk(call, steps))
    for words in account_words(app.extensions["flow"]):
        assert words not in heard
    db.rollback()
    assert db.scalar(select(func.count()).select_from(RefundTicket)) == 0
    assert db.scalar(select(Customer.status).where(Customer.id == WANG["id"])) == "active"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(language=st.sampled_from(["1", "2"]), steps=st.lists(step, max_size=25))
def test_verified_callers_always_get_twiml_and_a_way_on(phone, language: str, steps: list) -> None:
    call = phone(WANG["phone"]).dial().press(language).press("#").press(WANG["pin"])
    walk(call, steps)
    # Wherever the walk stopped, the caller is being asked, queued, or done.
    assert call.gather is not None or call.queue is not None or call.hung_up
