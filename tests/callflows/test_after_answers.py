"""After an answer the caller hears a short line, not the whole menu; silence then ends
the call politely; silence in a menu is "didn't hear you", not "not an option"
(issue 8, point 12; SPEC §4)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calls import spoken
from models import RefundTicket
from tests.callflows.test_menus import SHORT_LINE, WANG, at_main_menu, record

pytestmark = pytest.mark.usefixtures("demo")

FEES = {"zh": "提现到银行卡通常在2到3个工作日内到账", "en": "Withdrawals to a bank card usually"}
FUNDS_MENU = {"zh": "充值与提现。充值方式请按1", "en": "Top-ups and withdrawals. For ways"}
OFFER_AGENT = {
    "zh": "如需人工客服为您处理，请按0；再听一遍请按9；返回菜单请按星号键。",
    "en": "To have an agent help you with this, press 0. To hear it again, press 9."
    " To go back, press star.",
}
GOODBYE = {"zh": "感谢您的来电，再见。", "en": "Thank you for calling Bitai Wallet. Goodbye."}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_nine_hears_the_answer_again_star_the_menu_zero_an_agent(phone, language: str) -> None:
    call = at_main_menu(phone, WANG, language).press("2").press("2")
    assert call.text.startswith(FEES[language]) and call.text.endswith(SHORT_LINE[language])
    assert FUNDS_MENU[language] not in call.text
    call.press("9")
    assert call.text.startswith(FEES[language]) and call.text.endswith(SHORT_LINE[language])
    call.say("再说一遍" if language == "zh" else "say that again")
    assert call.text.startswith(FEES[language])
    call.press("*")
    assert call.text.startswith(FUNDS_MENU[language])
    call.press("3")  # the latest withdrawal, from the account: overdue, so an agent first
    assert call.text.endswith(OFFER_AGENT[language])
    call.press("9")
    assert ("500元" if language == "zh" else "500 yuan") in call.text
    call.press("0")
    assert call.queue == "hotline-funds"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_silence_after_an_answer_ends_the_call_politely(phone, db: Session, language: str) -> None:
    call = at_main_menu(phone, WANG, language).press("2").press("3").silence()
    assert call.text == GOODBYE[language]
    assert call.hung_up and call.queue is None
    row = record(db, call)
    kinds = [event.kind for event in row.events]
    assert "menu.missed" not in kinds and "queue.entered" not in kinds
    assert row.outcome == "self_served"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_after_a_refund_nine_tells_it_again_and_files_nothing_more(
    phone, db: Session, language: str
) -> None:
    call = at_main_menu(phone, WANG, language).press("3").press("2").press("1")
    db.rollback()
    reference = db.scalars(select(RefundTicket.reference)).one()
    call.press("9")
    assert spoken.reference(reference, language) in call.text and call.text.endswith(
        SHORT_LINE[language]
    )
    assert db.scalar(select(func.count()).select_from(RefundTicket)) == 1


@pytest.mark.parametrize(
    ("language", "heard"),
    [("zh", "抱歉，我没有听到您的选择。 充值与提现"), ("en", "Sorry, I didn't hear you. Top-ups")],
)
def test_silence_in_a_menu_is_not_a_wrong_key(phone, language: str, heard: str) -> None:
    call = at_main_menu(phone, WANG, language).press("2").silence()
    assert call.text.startswith(heard)
    assert ("没有这个选项" if language == "zh" else "not an option") not in call.text
    call.silence().silence()  # still, the third miss in a row reaches an agent
    assert call.queue == "hotline-funds"
