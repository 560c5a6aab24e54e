"""The flow engine alone: menu, key or words in, a decision out (no HTTP, no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callflows import engine
from callflows.answers import ACTING, ANSWERS
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
    confidence: float | None = None,
) -> engine.Decision:
    heard = engine.Heard(digits, speech, confidence)
    return engine.choose(
        flow, menu, heard, language, verified=verified, misses=misses, acting=ACTING
    )[1]


def spoken(lines: tuple[dict[Language, str], ...], language: Language) -> str:
    return " ".join(line[language] for line in lines)


def test_keys_lead_to_menus_information_answers_and_queues(flow: Flow) -> None:
    heard = engine.Heard("1")
    assert engine.choose(flow, "main", heard, "en", verified=True, misses=0) == (
        "1",
        engine.ShowMenu("account"),
    )
    told = choose(flow, "funds", "1")
    assert isinstance(told, engine.Say) and "UnionPay" in told.text["en"]
    answer = choose(flow, "transactions", "1", language="zh")
    assert isinstance(answer, engine.GiveAnswer) and answer.answer == "latest_transaction"
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


@pytest.mark.parametrize("digits", ["5", "#"])
def test_a_wrong_key_is_a_miss_that_says_so(flow: Flow, digits: str) -> None:
    missed = choose(flow, "main", digits)
    assert missed == engine.Missed(1, engine.ShowMenu("main", (flow.prompts.not_an_option,)))


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh", "抱歉，我没有听到您的选择。"), ("en", "Sorry, I didn't hear you.")],
)
def test_silence_is_a_miss_that_says_it_heard_nothing_not_a_wrong_key(
    flow: Flow, language: Language, words: str
) -> None:
    missed = choose(flow, "main", "", language=language, misses=1)
    assert missed == engine.Missed(2, engine.ShowMenu("main", (flow.prompts.didnt_hear,)))
    assert spoken(missed.then.preface, language) == words  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("said", "confidence"), [("mumble", 0.9), ("refund", 0.2), ("refund", 0.49)]
)
def test_words_not_understood_or_unsure_ask_again_and_do_nothing(
    flow: Flow, said: str, confidence: float
) -> None:
    missed = choose(flow, "main", "", said, confidence=confidence)
    assert missed == engine.Missed(1, engine.ShowMenu("main", (flow.prompts.not_understood,)))
    assert choose(flow, "main", "", "refund", confidence=0.5) == engine.ShowMenu("transactions")
    assert choose(flow, "main", "", "refund") == engine.ShowMenu("transactions")  # none sent


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
        "refund_reference",
        "protective_freeze",
    }
    for menu, key, option in options:
        refused = choose(flow, menu, key, language=language, verified=False)
        assert isinstance(refused, engine.Refused) and refused.answer == option.answer
        assert refused.then.menu == menu  # the same menu: 0 for an agent, * back
        assert words in spoken(refused.then.preface, language)
        given = choose(flow, menu, key, verified=True)
        assert isinstance(given, engine.GiveAnswer | engine.Confirm)


def test_unverified_callers_are_refused_by_voice_too(flow: Flow) -> None:
    refused = choose(flow, "transactions", "", "我要申请退款", "zh", verified=False)
    assert refused == engine.Refused(
        "refund_request", engine.ShowMenu("transactions", (flow.answers.needs_verification,))
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh", "再听一遍请按9；返回菜单请按星号键；人工客服请按0。"),
        ("en", "To hear it again, press 9. To go back, press star. For an agent, press 0."),
    ],
)
def test_then_menu_gives_the_short_line_not_the_whole_menu(
    flow: Flow, language: Language, words: str
) -> None:
    given = choose(flow, "funds", "3", language=language)
    assert given == engine.GiveAnswer(
        "latest_funds", engine.Answered("funds", "3", flow.answers.after_answer)
    )
    assert given.then.closing[language] == words  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh", "如需人工客服为您处理，请按0"), ("en", "To have an agent help you with this, press 0")],
)
def test_then_offer_offers_an_agent_in_the_same_menu(
    flow: Flow, language: Language, words: str
) -> None:
    given = choose(flow, "account", "2", language=language)
    assert given == engine.GiveAnswer(
        "freeze_reason", engine.Answered("account", "2", flow.answers.offer_agent)
    )
    assert words in flow.answers.offer_agent[language]


def test_a_queue_option_goes_straight_to_its_queue_verified_or_not(tmp_path: Path) -> None:
    def report_line(flow: dict[str, Any]) -> None:
        report = {"do": "queue", "queue": "urgent", "keywords": {"en": ["report"]}}
        flow["menus"]["guides"]["options"]["5"] = report

    flow = load_flow(changed_flow(tmp_path, report_line), answers=ANSWERS)
    assert choose(flow, "guides", "5", verified=False) == engine.ToQueue("urgent")
    assert choose(flow, "guides", "", "I want to report it") == engine.ToQueue("urgent")


def test_then_queue_goes_to_that_queue_once_confirmed(flow: Flow) -> None:
    assert choose(flow, "stolen", "1") == engine.Confirm(
        "protective_freeze", "1", engine.ToQueue("urgent")
    )
    assert engine.after_confirm(flow, "stolen", "1", "1") == engine.GiveAnswer(
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
    assert told.then == engine.Answered("funds", "1", flow.answers.after_answer)


@pytest.mark.parametrize(
    ("menu", "said", "language", "key"),
    [
        ("main", "I want a REFUND please", "en", "3"),
        ("main", "我想充值", "zh", "2"),
        ("main", "refund", "zh", "3"),  # an English word on a Mandarin call still counts
        ("transactions", "退款的事情，转人工", "zh", "0"),  # an agent wins
        ("account", "go back", "en", "*"),
        ("guides", "mumble", "en", ""),
        # option numbers said instead of pressed, and requests to hear it again
        ("main", "two", "en", "2"),
        ("main", "Number three.", "en", "3"),
        ("main", "press 2", "en", "2"),
        ("main", "二", "zh", "2"),
        ("main", "两", "zh", "2"),
        ("main", "按三", "zh", "3"),
        ("main", "第四个", "zh", "4"),
        ("main", "zero", "en", "0"),
        ("main", "I paid two hundred yuan", "en", ""),
        ("main", "再说一遍", "zh", "9"),
        ("funds", "Could you say that again?", "en", "9"),
        # whole words and phrases, never a negated one
        ("stolen", "yesterday someone paid with my card", "en", ""),
        ("stolen", "my eyes are bad", "en", ""),
        ("stolen", "I don't want to freeze it yet", "en", ""),
        ("stolen", "先不要冻结", "zh", ""),
        ("stolen", "别冻结我的账户", "zh", ""),
        ("stolen", "yes, freeze it", "en", "1"),
        ("stolen", "请立即冻结", "zh", "1"),
        ("transactions", "when will my refund arrive", "en", ""),
        ("transactions", "我不要退款", "zh", ""),
        ("transactions", "I want a refund", "en", "2"),
        ("funds", "我的钱没有到账", "zh", "3"),  # 没有 is part of a listed phrase here
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


def test_anyone_not_verified_is_offered_an_agent_in_the_same_words(flow: Flow) -> None:
    # The offer itself says we could not verify them; never why (SPEC §5).
    assert engine.after_verification(flow, Verdict.UNVERIFIED) == engine.OfferAgent()


@pytest.mark.parametrize("digits", ["0", "", "5", "*"])
def test_a_caller_offered_an_agent_who_stays_reaches_the_general_queue(digits: str) -> None:
    assert engine.after_offer(digits) == engine.ToQueue("general")


def test_one_after_the_offer_reaches_the_main_menu_unverified() -> None:
    assert engine.after_offer("1") == engine.ShowMenu("main")


def test_hints_list_the_menus_words_in_the_callers_language(flow: Flow) -> None:
    hints = engine.hints(flow, "transactions", "en")
    assert "refund" in hints and "agent" in hints and "退款" not in hints


@pytest.mark.parametrize("language", ["zh", "en"])
def test_after_an_answer_nine_hears_it_again_star_the_menu_zero_an_agent(
    flow: Flow, language: Language
) -> None:
    def after(menu: str, key: str, digits: str, speech: str = "") -> engine.Decision:
        heard = engine.Heard(digits, speech)
        return engine.after_answer(flow, menu, key, heard, language, verified=True, acting=ACTING)[
            1
        ]

    short = engine.Answered("funds", "1", flow.answers.after_answer)
    assert after("funds", "1", "9") == engine.Say(flow.menus["funds"].options["1"].text, short)  # type: ignore[union-attr]
    assert after("funds", "3", "9") == engine.GiveAnswer(
        "latest_funds", engine.Answered("funds", "3", flow.answers.after_answer)
    )
    again = "再说一遍" if language == "zh" else "say that again"
    assert after("funds", "1", "", again) == after("funds", "1", "9")
    assert after("transactions", "2", "9") == engine.HearAgain(
        "refund_request", engine.Answered("transactions", "2", flow.answers.after_answer)
    )
    assert after("funds", "1", "*") == engine.ShowMenu("funds")
    assert after("funds", "1", "0") == engine.ToQueue("funds")
    assert after("funds", "1", "2") == engine.Say(  # the menu's own keys still work
        flow.menus["funds"].options["2"].text,  # type: ignore[union-attr]
        engine.Answered("funds", "2", flow.answers.after_answer),
    )


def test_silence_after_an_answer_says_goodbye_not_a_miss_nor_a_queue(flow: Flow) -> None:
    heard = engine.Heard()
    decision = engine.after_answer(flow, "funds", "3", heard, "zh", verified=True)[1]
    assert decision == engine.Goodbye(flow.prompts.goodbye)


@pytest.mark.parametrize("digits", ["2", "", "5", "*", "0"])
def test_anything_but_one_after_a_read_back_does_nothing(flow: Flow, digits: str) -> None:
    for menu, key in (("stolen", "1"), ("transactions", "2")):
        assert engine.after_confirm(flow, menu, key, digits) == engine.ShowMenu(
            menu, (flow.answers.not_confirmed,)
        )


def test_acting_answers_are_read_back_before_anything_is_done(flow: Flow) -> None:
    assert ACTING == {"refund_request", "protective_freeze"}
    by_voice = choose(flow, "transactions", "", "I want a refund")
    assert by_voice == engine.Confirm(
        "refund_request", "2", engine.Answered("transactions", "2", flow.answers.after_answer)
    )
    assert engine.after_confirm(flow, "transactions", "2", "1") == engine.GiveAnswer(
        "refund_request", engine.Answered("transactions", "2", flow.answers.after_answer)
    )
