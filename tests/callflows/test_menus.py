"""Every leaf of the default menu tree (SPEC §4), in both languages, by key and by voice."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowfile.menus import MenuOption
from models import Call, Customer, RefundTicket
from telephony.simulator import Leg
from tests.demo import customer
from tests.flowfile.flows import shipped_flow

pytestmark = pytest.mark.usefixtures("demo")

WANG = customer(language="zh")  # C1001: pending withdrawal, latest a completed payment
FROZEN = customer(status="frozen")  # C1002
EMILY = customer(language="en")  # C1003: pending top-up, latest a failed payment
LANGUAGES = {"zh": "1", "en": "2"}
SHORT_LINE = {
    "zh": "再听一遍请按9；返回菜单请按星号键；人工客服请按0。",
    "en": "To hear it again, press 9. To go back, press star. For an agent, press 0.",
}


def at_main_menu(phone, who: dict, language: str) -> Leg:  # noqa: ANN001
    call = phone(who["phone"]).dial().press(LANGUAGES[language]).press("#").press(who["pin"])
    assert ("主菜单" if language == "zh" else "Main menu") in call.text
    return call


def record(db: Session, call: Leg) -> Call:
    db.rollback()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


INFO_LEAVES = [
    (("1", "1"), "登录页点击“忘记密码”", "tap Forgot password"),
    (("2", "1"), "银联银行卡或支付宝", "UnionPay bank card or with Alipay"),
    (("2", "2"), "2到3个工作日", "2 to 3 working days"),
    (("4", "1"), "添加银行卡", "tap Add card"),
    (("4", "2"), "6位数字密码", "choose six digits"),
    (("4", "3"), "打开“两步验证”", "switch on Two-step verification"),
    (("4", "4"), "绝不会索要您的支付密码或短信验证码", "never ask for your payment password"),
]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize(("keys", "zh", "en"), INFO_LEAVES)
def test_information_leaves(phone, language: str, keys: tuple[str, str], zh: str, en: str) -> None:
    call = at_main_menu(phone, WANG, language).press(keys[0]).press(keys[1])
    assert (zh if language == "zh" else en) in call.text
    # then the short line of how to go on, not the whole menu again (SPEC §4)
    assert call.text.endswith(SHORT_LINE[language])
    assert ("请按1" if language == "zh" else "press 1") not in call.text.replace(
        SHORT_LINE[language], ""
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh", ["账户状态正常"]), ("en", ["Your account is active and not frozen"])],
)
def test_freeze_reason_of_an_active_account(phone, language: str, expected: list[str]) -> None:
    call = at_main_menu(phone, WANG, language).press("1").press("2")
    assert all(words in call.text for words in expected)


@pytest.mark.parametrize(
    ("language", "offer"),
    [("zh", "如需人工客服为您处理，请按0"), ("en", "To have an agent help you with this, press 0")],
)
def test_freeze_reason_on_file_then_an_agent_offer(phone, language: str, offer: str) -> None:
    call = at_main_menu(phone, FROZEN, language).press("1").press("2")
    reason = {"zh": "检测到异地异常登录", "en": "suspicious sign-in"}[language]  # the code's words
    assert reason in call.text and offer in call.text
    call.press("0")
    assert call.queue == "hotline-account"


@pytest.mark.parametrize(
    ("language", "done", "urgent"),
    [
        # Nobody is on: said as it is (tests/queueing/test_urgent_line.py has the rest).
        ("zh", "您的账户已冻结", "目前暂时没有客服在线"),
        ("en", "Your account is now frozen", "No agent is on duty right now"),
    ],
)
def test_stolen_account_is_frozen_once_confirmed_then_the_urgent_queue(
    phone, db: Session, language: str, done: str, urgent: str
) -> None:
    call = at_main_menu(phone, WANG, language).press("1").press("3")
    assert ("请按1立即冻结账户" if language == "zh" else "press 1 to freeze") in call.text
    call.press("1")
    assert ("您即将冻结账户" if language == "zh" else "You are about to freeze") in call.text
    assert db.get(Customer, WANG["id"]).status == "active"  # type: ignore[union-attr]
    call.press("1")
    assert done in call.text and urgent in call.text
    assert call.queue == "hotline-urgent"
    db.rollback()
    frozen = db.get(Customer, WANG["id"])
    assert frozen is not None and frozen.status == "frozen" and frozen.freeze_reason
    assert "account.frozen" in [event.kind for event in record(db, call).events]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["top-up", "300 yuan", "pending", "expected to arrive by November 24 at 4:05 PM"]),
        ("zh", ["充值", "300元", "处理中", "预计到账时间：11月24日16点05分"]),
    ],
)
def test_money_not_arrived_tells_when_the_latest_top_up_is_expected(
    phone, language: str, expected: list[str]
) -> None:
    call = at_main_menu(phone, EMILY, language).press("2").press("3")
    for words in expected:
        assert words in call.text


@pytest.mark.parametrize(
    ("language", "overdue", "offer"),
    [
        ("zh", "这笔提现原定11月23日18点前到账，现已逾期", "如需人工客服为您处理，请按0"),
        (
            "en",
            "This withdrawal should have arrived by November 23 at 6 PM and is now overdue",
            "To have an agent help you with this, press 0",
        ),
    ],
)
def test_an_overdue_withdrawal_is_said_to_be_overdue_and_an_agent_is_offered(
    phone, language: str, overdue: str, offer: str
) -> None:
    # Wang's withdrawal was expected on 23 November at 18:00; the call is on the 24th.
    call = at_main_menu(phone, WANG, language).press("2").press("3")
    assert ("500元" if language == "zh" else "500 yuan") in call.text
    assert overdue in call.text and offer in call.text
    assert "预计到账" not in call.text and "expected to arrive" not in call.text
    call.press("0")
    assert call.queue == "hotline-funds"


@pytest.mark.parametrize(
    ("who", "language", "expected"),
    [
        (WANG, "zh", ["支付", "35元", "已完成", "11月22日19点40分"]),
        (
            EMILY,
            "en",
            ["payment", "59.90 yuan", "failed", "the bank that issued the card declined it"],
        ),
        (EMILY, "zh", ["支付", "59元9角", "失败", "失败原因：发卡银行拒绝了这笔付款"]),
    ],
)
def test_latest_transaction_with_its_failure_reason(
    phone, who: dict, language: str, expected: list[str]
) -> None:
    call = at_main_menu(phone, who, language).press("3").press("1")
    for words in expected:
        assert words in call.text


@pytest.mark.parametrize(
    ("language", "again"),
    [("zh", "重听退款单号请按3"), ("en", "To hear the reference again, press 3")],
)
def test_refund_request_records_a_ticket_and_reads_its_reference_twice_in_groups(
    phone, db: Session, language: str, again: str
) -> None:
    call = at_main_menu(phone, WANG, language).press("3").press("2")
    assert db.scalars(select(RefundTicket)).all() == []  # read back first
    call.press("1")
    db.rollback()
    ticket = db.scalars(select(RefundTicket)).one()
    assert ticket.customer_id == WANG["id"] and ticket.transaction_id == "T9004"
    assert ticket.status == "open" and str(ticket.amount) == "35.00"
    ref = ticket.reference
    grouped = f"{' '.join(ref[:4])}{'，' if language == 'zh' else ', '}{' '.join(ref[4:])}"
    assert call.text.count(grouped) == 2  # one by one, in two groups of four, twice
    assert again in call.text
    assert ("35元" if language == "zh" else "35 yuan") in call.text
    call.press("3")  # the key to hear it again
    assert call.text.count(grouped) == 2 and "35" in call.text
    again_call = at_main_menu(phone, WANG, language).press("3").press("2")
    assert grouped in again_call.text  # the same ticket, not a second one
    assert len(db.scalars(select(RefundTicket)).all()) == 1


@pytest.mark.parametrize(
    ("language", "none"), [("zh", "您还没有退款申请"), ("en", "no refund requests")]
)
def test_a_refund_reference_when_there_is_none(phone, language: str, none: str) -> None:
    assert none in at_main_menu(phone, EMILY, language).press("3").press("3").text


@pytest.mark.parametrize(
    ("language", "refused"), [("zh", "无法在电话中申请退款"), ("en", "cannot be refunded by phone")]
)
def test_refund_of_a_failed_payment_is_not_possible_by_phone(
    phone, db: Session, language: str, refused: str
) -> None:
    call = at_main_menu(phone, EMILY, language).press("3").press("2")
    assert refused in call.text
    assert db.scalars(select(RefundTicket)).all() == []


@pytest.mark.parametrize(
    ("path", "queue"),
    [
        ((), "hotline-general"),
        (("1",), "hotline-account"),
        (("1", "3"), "hotline-account"),
        (("2",), "hotline-funds"),
        (("3",), "hotline-transactions"),
        (("4",), "hotline-guides"),
    ],
)
def test_zero_from_any_menu_reaches_that_branchs_queue(phone, path: tuple, queue: str) -> None:
    call = at_main_menu(phone, WANG, "en")
    for key in path:
        call.press(key)
    call.press("0")
    assert call.queue == queue


def test_star_goes_back_and_nine_repeats(phone) -> None:
    call = at_main_menu(phone, WANG, "en").press("1").press("3")
    assert "press 1 to freeze" in call.text
    call.press("*")
    assert call.text.startswith("Account and security")
    call.press("9")
    assert call.text.startswith("Account and security")
    call.press("*")
    assert call.text.startswith("Main menu")
    call.press("*")  # main has nowhere further back: the menu again
    assert call.text.startswith("Main menu")


def test_three_misses_in_a_row_reach_the_branchs_agents(phone, db: Session) -> None:
    call = at_main_menu(phone, WANG, "zh").press("2")
    call.press("8")
    assert "没有这个选项" in call.text and "充值与提现" in call.text
    call.silence()
    assert "没有听到您的选择" in call.text and "充值与提现" in call.text
    call.press("7")
    assert call.queue == "hotline-funds"
    assert [e.data["misses"] for e in record(db, call).events if e.kind == "menu.missed"] == [
        1,
        2,
        3,
    ]


@pytest.mark.parametrize(
    ("language", "said", "expected"),
    [
        ("zh", "我想查一下充值", "充值与提现"),
        ("en", "I have a question about a refund", "Transactions and refunds"),
        ("en", "my account was stolen", "If your account was stolen"),
    ],
)
def test_menus_understand_spoken_keywords(phone, language: str, said: str, expected: str) -> None:
    call = at_main_menu(phone, WANG, language)
    gather = call.gather
    assert gather is not None and gather.attributes["input"] == "dtmf speech"
    assert gather.attributes["language"] == ("cmn-Hans-CN" if language == "zh" else "en-US")
    assert gather.attributes["hints"]
    # An explicit model, with a whole-number timeout (Twilio warns against "auto" with one).
    assert gather.attributes["speechModel"] == (
        "default" if language == "zh" else "experimental_utterances"
    )
    assert gather.attributes["speechTimeout"].isdigit()
    call.say(said)
    assert call.text.startswith(expected)


def test_speech_answers_and_asks_for_an_agent(phone, db: Session) -> None:
    call = at_main_menu(phone, WANG, "zh").say("我要退款")
    assert call.text.startswith("交易与退款")
    call.say("我要申请退款")
    assert "申请退款，金额35元" in call.text and "确认申请请按1" in call.text
    call.press("1")
    assert "退款单号" in call.text
    call.say("转人工")
    assert call.queue == "hotline-transactions"
    chosen = [e.data for e in record(db, call).events if e.kind == "menu.chosen"]
    assert chosen[0] == {"menu": "main", "key": "3", "speech": "我要退款"}


def test_unverified_callers_get_no_account_data_but_an_agent_offer(phone, db: Session) -> None:
    call = phone(WANG["phone"]).dial().press("2")
    for wrong in ("0000", "1111", "2222"):
        call.press("#").press(wrong)
    call.press("1")  # continue to the menu, unverified
    call.press("2").press("3")
    assert "only give account details after verifying your identity" in call.text
    assert "500 yuan" not in call.text
    call.press("0")
    assert call.queue == "hotline-funds"
    assert "answer.refused" in [e.kind for e in record(db, call).events]


def test_self_served_call_leaves_a_path_without_an_agent(phone, db: Session) -> None:
    call = at_main_menu(phone, WANG, "en").press("2").press("3")
    call.end(duration=70)
    row = record(db, call)
    kinds = [e.kind for e in row.events]
    assert "answer.given" in kinds and "queue.entered" not in kinds
    assert row.outcome == "hung_up" and row.verified


def leaf_paths() -> list[tuple[str, ...]]:
    """The keys from the main menu to every option of every menu."""
    flow = shipped_flow()
    paths: list[tuple[str, ...]] = []

    def visit(menu: str, path: tuple[str, ...]) -> None:
        for key, option in flow.menus[menu].options.items():
            paths.append((*path, key))
            if isinstance(option, MenuOption):
                visit(option.menu, (*path, key))

    visit("main", ())
    return paths


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("path", leaf_paths(), ids="-".join)
def test_every_option_is_reached_alike_by_keys_and_by_voice(
    phone, language: str, path: tuple[str, ...]
) -> None:
    flow = shipped_flow()
    by_keys = at_main_menu(phone, WANG, language)
    by_voice = at_main_menu(phone, WANG, language)
    menu = "main"
    for key in path:
        option = flow.menus[menu].options[key]
        heard = by_keys.press(key).text
        if by_keys.queued:  # one caller at a time in the queue: both hear position 1
            by_keys.hang_up()
        by_voice.say(option.keywords.words(language)[0])
        assert by_voice.text == heard
        assert by_voice.queue == by_keys.queue
        menu = option.menu if isinstance(option, MenuOption) else menu
