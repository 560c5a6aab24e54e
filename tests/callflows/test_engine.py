"""The flow engine alone: menu, key or words in, next step out (no HTTP, no database)."""

from __future__ import annotations

import pytest

from callflows import engine
from flowfile.flow import Flow
from tests.flowfile.flows import shipped_flow


@pytest.fixture(scope="module")
def flow() -> Flow:
    return shipped_flow()


def test_keys_lead_to_menus_information_answers_and_queues(flow: Flow) -> None:
    assert engine.choose(flow, "main", "1", "", "en") == ("1", engine.ShowMenu("account"))
    key, told = engine.choose(flow, "funds", "1", "", "en")
    assert isinstance(told, engine.SayText) and "UnionPay" in told.text["en"]
    key, answer = engine.choose(flow, "transactions", "2", "", "zh")
    assert isinstance(answer, engine.GiveAnswer) and answer.option.answer == "refund_request"
    assert engine.choose(flow, "stolen", "0", "", "zh")[1] == engine.ToAgent("urgent")


def test_global_keys_work_in_every_menu(flow: Flow) -> None:
    for menu in flow.menus:
        assert engine.choose(flow, menu, "9", "", "en")[1] == engine.ShowMenu(menu)
        assert engine.choose(flow, menu, "0", "", "en")[1] == engine.ToAgent(flow.menu_queue(menu))
    assert engine.choose(flow, "stolen", "*", "", "en")[1] == engine.ShowMenu("account")
    assert engine.choose(flow, "main", "*", "", "en")[1] == engine.ShowMenu("main")


@pytest.mark.parametrize("digits", ["5", "#", ""])
def test_anything_else_is_a_miss(flow: Flow, digits: str) -> None:
    assert engine.choose(flow, "main", digits, "", "en")[1] == engine.Missed("main")


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
    flow: Flow, menu: str, said: str, language: str, key: str
) -> None:
    assert engine.heard_key(flow, menu, said, language) == key


def test_hints_list_the_menus_words_in_the_callers_language(flow: Flow) -> None:
    hints = engine.hints(flow, "transactions", "en")
    assert "refund" in hints and "agent" in hints and "退款" not in hints
