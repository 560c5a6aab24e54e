"""The verification policy alone (SPEC §5): what every caller is asked, and what follows
(no HTTP, no database)."""

from __future__ import annotations

import pytest

from flowfile.texts import Prompts
from flowfile.vocabulary import Language
from tests.flowfile.flows import shipped_flow
from verification import policy
from verification.policy import AskNumber, AskSecret, Failed, NoInput, SendCode, Verdict

PER_CALL = {"limit": 3}


@pytest.fixture(scope="module")
def prompts() -> Prompts:
    return shipped_flow().prompts


def heard(question: AskNumber | AskSecret, language: Language) -> str:
    return " ".join(line[language] for line in question.lines)


@pytest.mark.parametrize(
    ("language", "words", "this_phone"),
    [
        ("zh", "请输入您在比太钱包注册的手机号码", "请直接按井号键"),
        ("en", "Please enter the phone number you registered", "just press the pound key"),
    ],
)
def test_every_caller_is_asked_for_the_number_or_hash_for_this_phone(
    prompts: Prompts, language: Language, words: str, this_phone: str
) -> None:
    first = policy.begin(prompts)
    assert heard(first, language).startswith(words) and this_phone in heard(first, language)


@pytest.mark.parametrize(
    ("language", "pin", "star"),
    [
        ("zh", "请输入您的电话密码", "请按星号键"),
        ("en", "Please enter your phone PIN", "press star for a code by text message"),
    ],
)
def test_any_number_is_asked_for_the_pin_or_star(
    prompts: Prompts, language: Language, pin: str, star: str
) -> None:
    then = policy.after_number(prompts)
    assert heard(then, language).startswith(pin) and star in heard(then, language)


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh", "如果该号码已注册"), ("en", "If the number is registered, we have sent it")],
)
def test_star_sends_a_code_and_everyone_hears_if_registered(
    prompts: Prompts, language: Language, words: str
) -> None:
    sent = policy.after_code_key(prompts)
    assert isinstance(sent, SendCode) and heard(sent.then, language).startswith(words)
    assert policy.wants_code("*") and not policy.wants_code("1234")


@pytest.mark.parametrize(
    ("language", "sorry"),
    [
        ("zh", "抱歉，您输入的信息与我们的记录不符。"),
        ("en", "Sorry, that does not match our records."),
    ],
)
def test_a_failure_says_so_and_starts_over_from_the_number(
    prompts: Prompts, language: Language, sorry: str
) -> None:
    failed = policy.after_failure(prompts, failures=0, **PER_CALL)
    assert failed.failures == 1
    # A wrong number, a wrong PIN or code and a locked customer: the same words.
    assert failed.then == AskNumber((prompts.not_matched, prompts.ask_number))
    assert heard(failed.then, language).startswith(sorry)


def test_the_third_failure_of_a_call_leaves_the_caller_unverified(prompts: Prompts) -> None:
    assert policy.after_failure(prompts, failures=2, **PER_CALL) == Failed(3, Verdict.UNVERIFIED)
    # The per-call limit is a setting.
    later = policy.after_failure(prompts, failures=2, limit=5)
    assert later.failures == 3 and not isinstance(later.then, Verdict)


@pytest.mark.parametrize(("at_number", "question"), [(True, "ask_number"), (False, "ask_pin")])
def test_silence_costs_an_attempt_and_asks_the_same_question_again(
    prompts: Prompts, at_number: bool, question: str
) -> None:
    silent = policy.after_silence(prompts, at_number=at_number, failures=0, **PER_CALL)
    assert silent.failures == 1
    assert not isinstance(silent.then, Verdict)
    assert silent.then.lines == (prompts.no_input, getattr(prompts, question))
    assert policy.after_silence(prompts, at_number=at_number, failures=2, **PER_CALL) == NoInput(
        3, Verdict.UNVERIFIED
    )


@pytest.mark.parametrize(
    ("language", "sorry"),
    [("zh", "抱歉，我们没有收到您的输入。"), ("en", "Sorry, we did not receive your input.")],
)
def test_silence_is_named_as_silence(prompts: Prompts, language: Language, sorry: str) -> None:
    silent = policy.after_silence(prompts, at_number=True, failures=0, **PER_CALL)
    assert isinstance(silent.then, AskNumber)
    assert heard(silent.then, language).startswith(sorry)
