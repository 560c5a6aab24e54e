"""Nothing that cannot be undone happens on one key or a few words (issue 8, points 10
and 11): what callers said that froze accounts or filed refunds now does neither, and a
freeze or a refund is read back and done only on 1."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from calls import spoken
from models import Customer, RefundTicket
from telephony.simulator import Leg
from tests.callflows.test_menus import WANG, at_main_menu, record

pytestmark = pytest.mark.usefixtures("demo")


def status(db: Session) -> str:
    db.rollback()
    customer = db.get(Customer, WANG["id"])
    assert customer is not None
    return customer.status


def tickets(db: Session) -> list[RefundTicket]:
    db.rollback()
    return list(db.scalars(select(RefundTicket)))


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "yesterday someone paid with my card"),
        ("en", "my eyes are bad"),
        ("en", "I don't want to freeze it yet"),
        ("zh", "先不要冻结"),
    ],
)
def test_words_that_froze_accounts_freeze_nothing(
    phone, db: Session, language: str, said: str
) -> None:
    call = at_main_menu(phone, WANG, language).press("1").press("3")
    call.say(said)
    assert status(db) == "active"
    # Asked again, in the stolen-account menu, rather than acted on.
    assert ("没有听清" if language == "zh" else "didn't catch that") in call.text
    assert ("请按1立即冻结账户" if language == "zh" else "press 1 to freeze") in call.text
    assert call.queue is None
    assert "account.frozen" not in [event.kind for event in record(db, call).events]


@pytest.mark.parametrize(
    ("language", "said"), [("en", "when will my refund arrive"), ("zh", "我不要退款")]
)
def test_asking_about_a_refund_files_none(phone, db: Session, language: str, said: str) -> None:
    call = at_main_menu(phone, WANG, language).press("3").say(said)
    assert tickets(db) == []
    assert ("确认申请请按1" if language == "zh" else "To confirm, press 1") not in call.text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_unsure_speech_is_asked_again_not_acted_on(phone, db: Session, language: str) -> None:
    call = at_main_menu(phone, WANG, language).press("1").press("3")
    call.say("冻结" if language == "zh" else "freeze", confidence=0.3)
    assert ("抱歉，我没有听清" if language == "zh" else "Sorry, I didn't catch that") in call.text
    assert ("您即将冻结账户" if language == "zh" else "about to freeze") not in call.text
    call.say("立即冻结" if language == "zh" else "freeze now", confidence=0.9)
    assert ("您即将冻结账户" if language == "zh" else "You are about to freeze") in call.text
    assert status(db) == "active"


@pytest.mark.parametrize(
    ("language", "said", "heard"),
    [("zh", "二", "充值与提现"), ("zh", "按三", "交易与退款"), ("en", "number two", "Top-ups")],
)
def test_option_numbers_may_be_said(phone, language: str, said: str, heard: str) -> None:
    call = at_main_menu(phone, WANG, language).say(said)
    assert call.text.startswith(heard)


@pytest.mark.parametrize(
    ("language", "read_back", "cancelled"),
    [
        ("zh", "冻结后，任何人都无法用该账户付款或提现", "好的，已取消，没有做任何更改。"),
        ("en", "nobody can pay or withdraw with it", "All right, nothing has been changed."),
    ],
)
@pytest.mark.parametrize("answer", ["2", "5", "*", None])
def test_a_freeze_is_done_only_on_one(
    phone, db: Session, language: str, read_back: str, cancelled: str, answer: str | None
) -> None:
    call = at_main_menu(phone, WANG, language).press("1").press("3").press("1")
    assert read_back in call.text and status(db) == "active"
    assert "speech" not in call.gather.attributes["input"]  # type: ignore[union-attr]  # keys only
    call.silence() if answer is None else call.press(answer)
    assert status(db) == "active"
    # Back in the stolen-account menu, told nothing happened; 1 still offers the freeze.
    assert call.text.startswith(cancelled) and call.queue is None
    call.press("1").press("1")
    assert status(db) == "frozen" and call.queue == "hotline-urgent"


@pytest.mark.parametrize(
    ("language", "read_back"),
    [
        ("zh", "您要为11月22日19点40分的一笔支付申请退款，金额35元。确认申请请按1；取消请按2。"),
        ("en", "You are asking for a refund of your payment of 35 yuan on November 22 at 7:40 PM."),
    ],
)
def test_a_refund_is_read_back_and_filed_only_on_one(
    phone, db: Session, language: str, read_back: str
) -> None:
    call = at_main_menu(phone, WANG, language).press("3").press("2")
    assert read_back in call.text
    call.press("2")
    assert tickets(db) == [] and call.text.startswith(
        "好的，已取消" if language == "zh" else "All right, nothing"
    )
    assert call.text.endswith(
        "返回上一级请按星号键；人工客服请按0。" if language == "zh" else "For an agent, press 0."
    )  # the transactions menu again
    call.press("2").silence()
    assert tickets(db) == []
    call.press("2").press("1")
    [ticket] = tickets(db)
    assert spoken.reference(ticket.reference, language) in call.text


def test_a_replayed_request_at_the_read_back_asks_again_and_does_nothing(
    phone, db: Session
) -> None:
    call = at_main_menu(phone, WANG, "en").press("3").press("2")
    confirm_url = call.gather.action  # type: ignore[union-attr]
    # The menu request that led here, delivered again: it hears the read-back, no ticket.
    again = call.post("/voice/menu", {"Digits": "2"})
    assert "You are asking for a refund" in again and tickets(db) == []
    # A confirmation for an older prompt (a stale turn) re-asks too.
    stale = re.sub(r"turn=\d+", "turn=1", confirm_url)
    assert "You are asking for a refund" in call.post(stale, {"Digits": "1"})
    assert tickets(db) == []
    call.press("1")
    assert len(tickets(db)) == 1
    # Once filed, a late 1 to the read-back files nothing more.
    call.post(confirm_url, {"Digits": "1"})
    assert len(tickets(db)) == 1


def test_a_double_submitted_confirmation_files_one_ticket(phone, db: Session) -> None:
    call = at_main_menu(phone, WANG, "en").press("3").press("2")
    url = call.gather.action  # type: ignore[union-attr]
    start = threading.Barrier(2)
    replies: list[str] = []

    def confirm(leg: Leg) -> None:
        start.wait()
        replies.append(leg.post(url, {"Digits": "1"}))

    threads = [threading.Thread(target=confirm, args=(call,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    [ticket] = tickets(db)
    # Both requests got a proper answer: the reference, or the call's state replayed.
    assert len(replies) == 2 and all("<Response>" in reply for reply in replies)
    assert any(spoken.reference(ticket.reference, "en") in reply for reply in replies)
