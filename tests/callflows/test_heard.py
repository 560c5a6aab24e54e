"""Matching speech against a menu's words, alone (no HTTP, no database): properties over
many sentences, with the shipped flow's words."""

from __future__ import annotations

import string

from hypothesis import assume, given
from hypothesis import strategies as st

from callflows import engine
from callflows.heard import said, units
from flowfile.flow import Flow
from flowfile.menus import AnswerOption
from flowfile.vocabulary import Language
from tests.flowfile.flows import shipped_flow

FLOW: Flow = shipped_flow()
ACTING_OPTIONS = [
    (menu, key, option)
    for menu, spec in FLOW.menus.items()
    for key, option in spec.options.items()
    if isinstance(option, AnswerOption) and option.answer in {"refund_request", "protective_freeze"}
]
NEUTRAL = {"zh": ["想", "现在", "马上", "真的"], "en": ["really", "want", "to", "it"]}


def menu_words(language: Language) -> list[str]:
    keys = FLOW.keys
    groups = [keys.agent_words, keys.back_words, keys.repeat_words]
    groups += [option.keywords for menu in FLOW.menus.values() for option in menu.options.values()]
    numbers = [word for words in FLOW.speech.numbers.words(language).values() for word in words]
    return [word for group in groups for word in group.words(language)] + numbers


@given(
    data=st.data(),
    language=st.sampled_from(["zh", "en"]),
    between=st.integers(min_value=0, max_value=2),
)
def test_a_negated_phrase_never_acts(data: st.DataObject, language: Language, between: int) -> None:
    menu, key, option = data.draw(st.sampled_from(ACTING_OPTIONS))
    phrase = data.draw(st.sampled_from(option.keywords.words(language)))
    negation = data.draw(st.sampled_from(FLOW.speech.negations.words(language)))
    filler = data.draw(st.lists(st.sampled_from(NEUTRAL[language]), max_size=between))
    gap = "" if language == "zh" else " "
    sentence = gap.join([negation, *filler, phrase])
    assert engine.heard_key(FLOW, menu, sentence, language) != key


@given(sentence=st.text(max_size=40))
def test_a_sentence_with_no_listed_phrase_never_chooses(sentence: str) -> None:
    folded = sentence.casefold()
    listed = menu_words("zh") + menu_words("en")
    assume(not any(word.casefold() in folded for word in listed))
    assume(not any(digit in sentence for digit in string.digits))
    for menu in FLOW.menus:
        assert engine.heard_key(FLOW, menu, sentence, "en") == ""


@given(
    data=st.data(),
    before=st.text(alphabet=string.ascii_lowercase, max_size=4),
    after=st.text(alphabet=string.ascii_lowercase, max_size=4),
)
def test_an_english_word_inside_a_longer_word_is_not_said(
    data: st.DataObject, before: str, after: str
) -> None:
    assume(before or after)
    word = data.draw(st.sampled_from([w for w in menu_words("en") if len(units(w)) == 1]))
    assert not said(f"my {before}{word}{after} is", word, [])
    assert said(f"my {word} is", word, [])
