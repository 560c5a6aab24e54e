"""The verification policy alone (SPEC §5): who claims what, and what follows (no HTTP,
no database)."""

from __future__ import annotations

import pytest

from flowfile.texts import Prompts
from flowfile.vocabulary import Language
from tests.flowfile.flows import shipped_flow
from verification import policy
from verification.policy import (
    AskNumber,
    AskSecret,
    Claim,
    Failed,
    NoInput,
    SendCode,
    Verdict,
)

CALLER_ID = (Claim.CALLER_ID_PIN, Claim.CALLER_ID_CODE)
PER_CALL = {"limit": 3}


@pytest.fixture(scope="module")
def prompts() -> Prompts:
    return shipped_flow().prompts


def heard(question: AskNumber | AskSecret, language: Language) -> str:
    return " ".join(line[language] for line in question.lines)


@pytest.mark.parametrize(
    ("language", "words"), [("zh", "请输入您的电话密码"), ("en", "Please enter your phone PIN")]
)
def test_a_caller_id_customer_with_a_pin_is_asked_for_it(
    prompts: Prompts, language: Language, words: str
) -> None:
    first = policy.begin(prompts, Claim.CALLER_ID_PIN, locked=False)
    assert isinstance(first, AskSecret) and heard(first, language).startswith(words)


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh", "六位验证码的短信"), ("en", "a text message with a six-digit code")],
)
def test_a_caller_id_customer_without_a_pin_is_texted_a_code_or_told_it_failed(
    prompts: Prompts, language: Language, words: str
) -> None:
    first = policy.begin(prompts, Claim.CALLER_ID_CODE, locked=False)
    assert isinstance(first, SendCode) and words in heard(first.then, language)
    assert first.unsent is Verdict.SMS_FAILED  # told, and offered an agent


@pytest.mark.parametrize("claim", CALLER_ID)
def test_a_locked_caller_id_customer_is_told_at_once_and_gets_no_code(
    prompts: Prompts, claim: Claim
) -> None:
    assert policy.begin(prompts, claim, locked=True) is Verdict.LOCKED


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh", "请输入您在比太钱包注册的手机号码"),
        ("en", "Please enter the phone number you registered"),
    ],
)
def test_anyone_else_keys_in_the_number(prompts: Prompts, language: Language, words: str) -> None:
    first = policy.begin(prompts, Claim.NOBODY, locked=False)
    assert isinstance(first, AskNumber) and heard(first, language).startswith(words)


def test_a_keyed_in_number_sounds_the_same_registered_or_not_pin_or_not(prompts: Prompts) -> None:
    unknown = policy.after_number(prompts, registered=False, has_pin=False)
    with_pin = policy.after_number(prompts, registered=True, has_pin=True)
    without_pin = policy.after_number(prompts, registered=True, has_pin=False)
    assert unknown == with_pin == AskSecret((prompts.ask_pin_or_code,))
    # Only a registered customer without a PIN is texted, and a failed text is not said.
    assert without_pin == SendCode(unknown, unsent=unknown)
    assert "短信验证码" in prompts.ask_pin_or_code["zh"]
    assert "If you have no phone PIN" in prompts.ask_pin_or_code["en"]


@pytest.mark.parametrize(
    ("claim", "again"),
    [
        (Claim.CALLER_ID_PIN, AskSecret),
        (Claim.CALLER_ID_CODE, AskSecret),
        (Claim.KEYED_IN, AskNumber),  # starts over from the number
    ],
)
@pytest.mark.parametrize(
    ("language", "sorry"),
    [
        ("zh", "抱歉，您输入的信息与我们的记录不符。"),
        ("en", "Sorry, that does not match our records."),
    ],
)
def test_a_failure_says_so_and_asks_again(
    prompts: Prompts, claim: Claim, again: type, language: Language, sorry: str
) -> None:
    failed = policy.after_failure(prompts, claim, failures=0, **PER_CALL)
    assert failed.failures == 1
    assert isinstance(failed.then, again)
    assert heard(failed.then, language).startswith(sorry)


def test_caller_id_claims_hear_their_secret_again_keyed_in_numbers_the_number(
    prompts: Prompts,
) -> None:
    pin = policy.after_failure(prompts, Claim.CALLER_ID_PIN, failures=1, **PER_CALL)
    code = policy.after_failure(prompts, Claim.CALLER_ID_CODE, failures=1, **PER_CALL)
    keyed = policy.after_failure(prompts, Claim.KEYED_IN, failures=1, **PER_CALL)
    assert pin.then == AskSecret((prompts.not_matched, prompts.ask_pin))
    assert code.then == AskSecret((prompts.not_matched, prompts.ask_sms_code))
    # So that a wrong number and a wrong PIN sound exactly the same.
    assert keyed.then == AskNumber((prompts.not_matched, prompts.ask_number))


@pytest.mark.parametrize("claim", [*CALLER_ID, Claim.KEYED_IN])
def test_the_third_failure_of_a_call_leaves_the_caller_unverified(
    prompts: Prompts, claim: Claim
) -> None:
    assert policy.after_failure(prompts, claim, failures=2, **PER_CALL) == Failed(
        3, Verdict.UNVERIFIED
    )
    # The per-call limit is a setting.
    later = policy.after_failure(prompts, claim, failures=2, limit=5)
    assert later.failures == 3 and not isinstance(later.then, Verdict)


@pytest.mark.parametrize("claim", CALLER_ID)
def test_a_caller_id_customer_found_locked_is_told(prompts: Prompts, claim: Claim) -> None:
    assert policy.after_lockout(prompts, claim, failures=0, **PER_CALL) is Verdict.LOCKED


@pytest.mark.parametrize("failures", [0, 1, 2])
def test_a_locked_keyed_in_number_sounds_like_any_wrong_number_or_pin(
    prompts: Prompts, failures: int
) -> None:
    locked = policy.after_lockout(prompts, Claim.KEYED_IN, failures=failures, **PER_CALL)
    wrong = policy.after_failure(prompts, Claim.KEYED_IN, failures=failures, **PER_CALL)
    assert locked == wrong


@pytest.mark.parametrize(
    ("claim", "question"),
    [
        (Claim.NOBODY, "ask_number"),
        (Claim.KEYED_IN, "ask_pin_or_code"),  # stays at the PIN: silence is no wrong guess
        (Claim.CALLER_ID_PIN, "ask_pin"),
        (Claim.CALLER_ID_CODE, "ask_sms_code"),
    ],
)
def test_silence_costs_an_attempt_and_asks_the_same_question_again(
    prompts: Prompts, claim: Claim, question: str
) -> None:
    silent = policy.after_silence(prompts, claim, failures=0, **PER_CALL)
    assert silent.failures == 1
    assert silent.then == policy.ask(prompts, claim, (prompts.no_input,))
    assert silent.then.lines[-1] == getattr(prompts, question)
    assert policy.after_silence(prompts, claim, failures=2, **PER_CALL) == NoInput(
        3, Verdict.UNVERIFIED
    )


@pytest.mark.parametrize(
    ("language", "sorry"),
    [("zh", "抱歉，我们没有收到您的输入。"), ("en", "Sorry, we did not receive your input.")],
)
def test_silence_is_named_as_silence(prompts: Prompts, language: Language, sorry: str) -> None:
    silent = policy.after_silence(prompts, Claim.NOBODY, failures=0, **PER_CALL)
    assert isinstance(silent.then, AskNumber)
    assert heard(silent.then, language).startswith(sorry)
