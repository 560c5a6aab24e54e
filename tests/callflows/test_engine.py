"""The flow engine alone: menu, key or words in, a decision out (no HTTP, no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callflows import engine
from callflows.answers import ANSWERS
from flowfile.flow import Flow
from flowfile.loader import load_flow
from flowfile.menus import AnswerOption
from flowfile.vocabulary import Language
from tests.flowfile.flows import changed_flow, shipped_flow
from verification.policy import Verdict


@pytest.fixture(scope="module")
def flow() -> Flow:
    return shipped_flow()


def choose(
    flow: Flow,
    menu: str,
    digits: str,
    speech: str = "",
    language: Language = "en",
    *,
    verified: bool = True,
    misses: int = 0,
) -> engine.Decision:
    return engine.choose(flow, menu, digits, speech, language, verified=verified, misses=misses)[1]


def spoken(lines: tuple[dict[Language, str], ...], language: Language) -> str:
    return " ".join(line[language] for line in lines)


def test_keys_lead_to_menus_information_answers_and_queues(flow: Flow) -> None:
    assert engine.choose(flow, "main", "1", "", "en", verified=True, misses=0) == (
        "1",
        engine.ShowMenu("account"),
    )
    told = choose(flow, "funds", "1")
    assert isinstance(told, engine.Say) and "UnionPay" in told.text["en"]
    answer = choose(flow, "transactions", "2", language="zh")
    assert isinstance(answer, engine.GiveAnswer) and answer.answer == "refund_request"
    # 0 in the stolen-account branch is the account queue: not a fast lane past everyone.
    assert choose(flow, "stolen", "0", language="zh") == engine.ToQueue("account")
    assert choose(flow, "main", "8") == engine.ShowMenu("stolen")
    assert choose(flow, "main", "8", verified=False) == engine.ToQueue("urgent")


def test_global_keys_work_in_every_menu(flow: Flow) -> None:
    for menu in flow.menus:
        assert choose(flow, menu, "9") == engine.ShowMenu(menu)
        assert choose(flow, menu, "0") == engine.ToQueue(flow.menu_queue(menu))
    assert choose(flow, "stolen", "*") == engine.ShowMenu("account")
    assert choose(flow, "main", "*") == engine.ShowMenu("main")


@pytest.mark.parametrize("digits", ["5", "#", ""])
def test_anything_else_is_a_miss(flow: Flow, digits: str) -> None:
    missed = choose(flow, "main", digits)
    assert missed == engine.Missed(1, engine.ShowMenu("main", (flow.prompts.not_an_option,)))


@pytest.mark.parametrize(
    ("language", "words"), [("zh", "抱歉，没有这个选项。"), ("en", "Sorry, that is not an option.")]
)
def test_first_and_second_miss_say_so_and_repeat_the_menu(
    flow: Flow, language: Language, words: str
) -> None:
    for before in (0, 1):
        missed = choose(flow, "funds", "7", language=language, misses=before)
        assert isinstance(missed, engine.Missed) and missed.misses == before + 1
        assert isinstance(missed.then, engine.ShowMenu) and missed.then.menu == "funds"
        assert spoken(missed.then.preface, language) == words


@pytest.mark.parametrize(
    ("menu", "queue"), [("main", "general"), ("funds", "funds"), ("stolen", "account")]
)
def test_the_third_miss_in_a_row_reaches_the_menus_agents(
    flow: Flow, menu: str, queue: str
) -> None:
    assert choose(flow, menu, "", misses=2) == engine.Missed(3, engine.ToQueue(queue))
    assert choose(flow, menu, "", "mumble", misses=2) == engine.Missed(3, engine.ToQueue(queue))


def test_a_good_key_after_two_misses_leads_on_not_to_an_agent(flow: Flow) -> None:
    assert choose(flow, "main", "2", misses=2) == engine.ShowMenu("funds")
    assert choose(flow, "main", "", "refund", misses=2) == engine.ShowMenu("transactions")


def answer_options(flow: Flow) -> list[tuple[str, str, AnswerOption]]:
    return [
        (menu, key, option)
        for menu, spec in flow.menus.items()
        for key, option in spec.options.items()
        if isinstance(option, AnswerOption)
    ]


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh", "查询账户信息需要先验证身份"), ("en", "only give account details after verifying")],
)
def test_account_answers_are_refused_to_unverified_callers(
    flow: Flow, language: Language, words: str
) -> None:
    options = answer_options(flow)
    assert {option.answer for _, _, option in options} == {
        "freeze_reason",
        "latest_funds",
        "latest_transaction",
        "refund_request",
        "protective_freeze",
    }
    for menu, key, option in options:
        refused = choose(flow, menu, key, language=language, verified=False)
        assert isinstance(refused, engine.Refused) and refused.answer == option.answer
        assert refused.then.menu == menu  # the same menu: 0 for an agent, * back
        assert words in spoken(refused.then.preface, language)
        assert isinstance(choose(flow, menu, key, verified=True), engine.GiveAnswer)


def test_unverified_callers_are_refused_by_voice_too(flow: Flow) -> None:
    refused = choose(flow, "transactions", "", "我要申请退款", "zh", verified=False)
    assert refused == engine.Refused(
        "refund_request", engine.ShowMenu("transactions", (flow.answers.needs_verification,))
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh", "重听菜单请按9；返回上一级请按星号键；人工客服请按0。"),
        ("en", "To hear the menu again"),
    ],
)
def test_then_menu_gives_the_short_line_and_the_menu_again(
    flow: Flow, language: Language, words: str
) -> None:
    given = choose(flow, "funds", "3", language=language)
    assert isinstance(given, engine.GiveAnswer) and given.answer == "latest_funds"
    assert isinstance(given.then, engine.ShowMenu) and given.then.menu == "funds"
    assert words in spoken(given.then.preface, language)


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh", "如需人工客服为您处理，请按0"), ("en", "To have an agent help you with this, press 0")],
)
def test_then_offer_offers_an_agent_in_the_same_menu(
    flow: Flow, language: Language, words: str
) -> None:
    given = choose(flow, "account", "2", language=language)
    assert isinstance(given, engine.GiveAnswer) and given.answer == "freeze_reason"
    assert isinstance(given.then, engine.ShowMenu) and given.then.menu == "account"
    assert words in spoken(given.then.preface, language)


def test_a_queue_option_goes_straight_to_its_queue_verified_or_not(tmp_path: Path) -> None:
    def report_line(flow: dict[str, Any]) -> None:
        report = {"do": "queue", "queue": "urgent", "keywords": {"en": ["report"]}}
        flow["menus"]["guides"]["options"]["5"] = report

    flow = load_flow(changed_flow(tmp_path, report_line), answers=ANSWERS)
    assert choose(flow, "guides", "5", verified=False) == engine.ToQueue("urgent")
    assert choose(flow, "guides", "", "I want to report it") == engine.ToQueue("urgent")


def test_then_queue_goes_straight_to_that_queue(flow: Flow) -> None:
    assert choose(flow, "stolen", "1") == engine.GiveAnswer(
        "protective_freeze", engine.ToQueue("urgent")
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh", "银联银行卡或支付宝"), ("en", "UnionPay bank card or with Alipay")],
)
def test_say_gives_its_words_then_the_short_line_and_the_menu(
    flow: Flow, language: Language, words: str
) -> None:
    told = choose(flow, "funds", "1", language=language, verified=False)
    assert isinstance(told, engine.Say) and words in told.text[language]  # no account data
    assert told.then == engine.ShowMenu("funds", (flow.answers.after_answer,))


@pytest.mark.parametrize(
    ("menu", "said", "language", "key"),
    [
        ("main", "I want a REFUND please", "en", "3"),
        ("main", "我想充值", "zh", "2"),
        ("main", "refund", "zh", "3"),  # an English word on a Mandarin call still counts
        ("transactions", "退款的事情，转人工", "zh", "0"),  # an agent wins
        ("account", "go back", "en", "*"),
        ("guides", "mumble", "en", ""),
    ],
)
def test_spoken_words_map_to_keys(
    flow: Flow, menu: str, said: str, language: Language, key: str
) -> None:
    assert engine.heard_key(flow, menu, said, language) == key


@pytest.mark.parametrize(
    ("language", "words"), [("zh", "身份验证成功"), ("en", "you are verified")]
)
def test_a_verified_caller_hears_so_then_the_main_menu(
    flow: Flow, language: Language, words: str
) -> None:
    shown = engine.after_verification(flow, Verdict.VERIFIED)
    assert isinstance(shown, engine.ShowMenu) and shown.menu == "main"
    assert words in spoken(shown.preface, language)


@pytest.mark.parametrize(
    ("verdict", "language", "why"),
    [
        (Verdict.LOCKED, "zh", "电话验证已暂时锁定"),
        (Verdict.LOCKED, "en", "phone verification is locked for now"),
        (Verdict.SMS_FAILED, "zh", "暂时无法发送短信验证码"),
        (Verdict.SMS_FAILED, "en", "we cannot send a text message code right now"),
        (Verdict.UNVERIFIED, "zh", ""),  # the offer itself says we could not verify them
        (Verdict.UNVERIFIED, "en", ""),
    ],
)
def test_anyone_not_verified_is_offered_an_agent_and_told_why(
    flow: Flow, verdict: Verdict, language: Language, why: str
) -> None:
    offer = engine.after_verification(flow, verdict)
    assert isinstance(offer, engine.OfferAgent)
    assert why in spoken(offer.preface, language)
    assert bool(offer.preface) == bool(why)


@pytest.mark.parametrize("digits", ["0", "", "5", "*"])
def test_a_caller_offered_an_agent_who_stays_reaches_the_general_queue(digits: str) -> None:
    assert engine.after_offer(digits) == engine.ToQueue("general")


def test_one_after_the_offer_reaches_the_main_menu_unverified() -> None:
    assert engine.after_offer("1") == engine.ShowMenu("main")


def test_hints_list_the_menus_words_in_the_callers_language(flow: Flow) -> None:
    hints = engine.hints(flow, "transactions", "en")
    assert "refund" in hints and "agent" in hints and "退款" not in hints
