"""The flow engine: "the caller is in menu M and pressed or said X" → a decision.

Pure: it reads the flow and typed values (the caller's language, whether they are
verified, their misses so far), and neither Flask nor the database. Decisions are
named after the option kinds of the flow file (``do: menu|say|answer|queue``);
callflows.journey carries them out. Where a verification verdict and the offer of an
agent lead is decided here too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from callflows.heard import said, spoken_number
from flowfile.flow import Flow
from flowfile.menus import AnswerOption, MenuOption, QueueOption, SayOption
from flowfile.vocabulary import Language, Spoken, Text
from verification.policy import Verdict

# Wrong keys, unknown words or silences in a row before the caller reaches an agent.
MISSES_BEFORE_AGENT = 3


@dataclass(frozen=True)
class Heard:
    """What a menu's Gather heard: keys, or words with Twilio's confidence in them
    (absent when the provider gives none: Twilio does not promise it)."""

    digits: str = ""
    speech: str = ""
    confidence: float | None = None


@dataclass(frozen=True)
class ShowMenu:
    """``do: menu`` (and back, repeat): the menu's prompt, after ``preface``."""

    menu: str
    preface: tuple[Text, ...] = ()


@dataclass(frozen=True)
class ToQueue:
    """``do: queue`` (and the agent key): into the agents' queue."""

    queue: str


@dataclass(frozen=True)
class Answered:
    """After an answer: the short line of what the caller can do next (``closing``: 9 to
    hear it again, * the menu, 0 an agent) instead of the whole menu; ``after_answer``
    takes what they do then. ``key`` is the option answered, in ``menu``."""

    menu: str
    key: str
    closing: Text


@dataclass(frozen=True)
class Say:
    """``do: say``: the option's fixed words, then ``then``."""

    text: Text
    then: Answered


@dataclass(frozen=True)
class GiveAnswer:
    """``do: answer`` for a verified caller: the answer from their account, then ``then``."""

    answer: str
    then: Answered | ToQueue


@dataclass(frozen=True)
class Confirm:
    """``do: answer`` that acts (a refund request, a freeze) for a verified caller: never
    done on one key or phrase. What would happen is read back first, and only the
    confirm key does it (``after_confirm``); ``then`` follows if there is nothing to do."""

    answer: str
    key: str
    then: Answered | ToQueue


@dataclass(frozen=True)
class Refused:
    """``do: answer`` for a caller who is not verified: no account data, but ``then``."""

    answer: str
    then: ShowMenu


@dataclass(frozen=True)
class Missed:
    """A wrong key, words no option knows, or silence: ``misses`` in a row now, then
    ``then``. Every other decision ends the run of misses."""

    misses: int
    then: ShowMenu | ToQueue


@dataclass(frozen=True)
class HearAgain:
    """9 (or "say that again") after an answer that acted (a refund recorded): what was
    done, once more, then ``then``; nothing is done twice."""

    answer: str
    then: Answered


@dataclass(frozen=True)
class Goodbye:
    """Silence after an answer: the caller has what they called for; thank them."""

    text: Text


Decision = ShowMenu | ToQueue | Say | GiveAnswer | Confirm | Refused | Missed | HearAgain | Goodbye


@dataclass(frozen=True)
class OfferAgent:
    """After verification without a verified caller: an agent (0, or staying on the
    line) or the menus anyway (1), after ``preface``."""

    preface: tuple[Text, ...] = ()


def choose(
    flow: Flow,
    menu: str,
    heard: Heard,
    language: Language,
    *,
    verified: bool,
    misses: int,
    acting: Collection[str] = (),
) -> tuple[str, Decision]:
    """The key the caller chose (spoken words mapped to their key) and the decision.
    ``acting``: the answers that change something, which are confirmed first."""
    if not heard.digits and not heard.speech:
        return "", _missed(flow, menu, misses + 1, flow.prompts.didnt_hear)
    if not heard.digits and not _confident(flow, heard):
        return "", _missed(flow, menu, misses + 1, flow.prompts.not_understood)
    key = heard.digits[:1] if heard.digits else heard_key(flow, menu, heard.speech, language)
    keys = flow.keys
    if key == keys.agent:
        return key, ToQueue(flow.menu_queue(menu))
    if key == keys.back:
        return key, ShowMenu(flow.parent(menu) or menu)
    if key == keys.repeat:
        return key, ShowMenu(menu)
    option = flow.menus[menu].options.get(key)
    if isinstance(option, MenuOption):
        straight_to = flow.menus[option.menu].unverified_queue
        if straight_to is not None and not verified:
            return key, ToQueue(straight_to)
        return key, ShowMenu(option.menu)
    if isinstance(option, SayOption):
        return key, Say(option.text, Answered(menu, key, flow.answers.after_answer))
    if isinstance(option, AnswerOption):
        if not verified:
            return key, Refused(option.answer, ShowMenu(menu, (flow.answers.needs_verification,)))
        then = _after_answer(flow, menu, key, option)
        if option.answer in acting:
            return key, Confirm(option.answer, key, then)
        return key, GiveAnswer(option.answer, then)
    if isinstance(option, QueueOption):
        return key, ToQueue(option.queue)
    unknown = flow.prompts.not_an_option if heard.digits or key else flow.prompts.not_understood
    return key, _missed(flow, menu, misses + 1, unknown)


def after_answer(
    flow: Flow,
    menu: str,
    key: str,
    heard: Heard,
    language: Language,
    *,
    verified: bool,
    acting: Collection[str] = (),
) -> tuple[str, Decision]:
    """What follows the short line after an answer: 9 the answer again, * the menu, 0 an
    agent, silence a polite goodbye (not a miss, not a queue); the menu's own keys still
    choose from it."""
    if not heard.digits and not heard.speech:
        return "", Goodbye(flow.prompts.goodbye)
    pressed = heard.digits[:1]
    if not pressed and _confident(flow, heard):
        pressed = heard_key(flow, menu, heard.speech, language)
    if pressed == flow.keys.repeat:
        return pressed, _again(flow, menu, key, acting)
    if pressed == flow.keys.back:
        return pressed, ShowMenu(menu)
    return choose(flow, menu, heard, language, verified=verified, misses=0, acting=acting)


def answered(flow: Flow, menu: str, key: str) -> Answered | None:
    """The short line after the answer of option ``key`` (None if the menu has no such
    option, or it ends in a queue)."""
    option = flow.menus[menu].options.get(key) if menu in flow.menus else None
    if isinstance(option, SayOption):
        return Answered(menu, key, flow.answers.after_answer)
    if isinstance(option, AnswerOption):
        then = _after_answer(flow, menu, key, option)
        return then if isinstance(then, Answered) else None
    return None


def confirming(flow: Flow, menu: str, key: str) -> Confirm | None:
    """The read-back a call at the confirm stage waits on (None if the flow changed)."""
    option = flow.menus[menu].options.get(key) if menu in flow.menus else None
    if not isinstance(option, AnswerOption):
        return None
    return Confirm(option.answer, key, _after_answer(flow, menu, key, option))


def _again(flow: Flow, menu: str, key: str, acting: Collection[str]) -> Decision:
    """The option answered last, once more, with the same short line after it."""
    option = flow.menus[menu].options.get(key)
    then = answered(flow, menu, key)
    if then is None:
        return ShowMenu(menu)
    if isinstance(option, SayOption):
        return Say(option.text, then)
    if isinstance(option, AnswerOption):
        if option.answer in acting:
            return HearAgain(option.answer, then)
        return GiveAnswer(option.answer, then)
    return ShowMenu(menu)


def after_confirm(flow: Flow, menu: str, key: str, digits: str) -> GiveAnswer | ShowMenu:
    """After a read-back: only the confirm key carries the answer out; 2, another key or
    silence does nothing and goes back to the menu, saying so."""
    option = flow.menus[menu].options.get(key)
    if digits == flow.keys.confirm and isinstance(option, AnswerOption):
        return GiveAnswer(option.answer, _after_answer(flow, menu, key, option))
    return ShowMenu(menu, (flow.answers.not_confirmed,))


def _confident(flow: Flow, heard: Heard) -> bool:
    return heard.confidence is None or heard.confidence >= flow.speech.min_confidence


def _after_answer(flow: Flow, menu: str, key: str, option: AnswerOption) -> Answered | ToQueue:
    """The option's ``then``: its queue, or the short line after an answer (the offer of
    an agent, for ``then: offer``)."""
    # The flow file is refused at load when `then: queue` names no queue.
    if option.then == "queue" and option.queue is not None:
        return ToQueue(option.queue)
    closing = flow.answers.offer_agent if option.then == "offer" else flow.answers.after_answer
    return Answered(menu, key, closing)


def offering_agent(flow: Flow, then: Answered | ToQueue) -> Answered | ToQueue:
    """What follows an answer that found something only a person can sort out: the offer
    of an agent instead of the usual closing line (a queue stays a queue)."""
    if isinstance(then, ToQueue):
        return then
    return replace(then, closing=flow.answers.offer_agent)


def _missed(flow: Flow, menu: str, misses: int, why: Text) -> Missed:
    if misses >= MISSES_BEFORE_AGENT:
        # Never hang up on a caller who cannot find their way: give them a person.
        return Missed(misses, ToQueue(flow.menu_queue(menu)))
    return Missed(misses, ShowMenu(menu, (why,)))


def after_verification(flow: Flow, verdict: Verdict) -> ShowMenu | OfferAgent | ToQueue:
    """A verified caller reaches the main menu, one who asked for an agent the general
    queue, unverified; anyone else is offered an agent (the same words for all)."""
    prompts = flow.prompts
    if verdict is Verdict.VERIFIED:
        return ShowMenu("main", (prompts.verified,))
    if verdict is Verdict.AGENT:
        return ToQueue("general")
    return OfferAgent()


def after_offer(digits: str) -> ShowMenu | ToQueue:
    """1: the menus, unverified; 0, any other key or silence: the caller stayed on the
    line for an agent."""
    if digits == "1":
        return ShowMenu("main")
    return ToQueue("general")


def heard_key(flow: Flow, menu: str, speech: str, language: Language) -> str:
    """The key whose words the caller said, in the call's language first, then any other
    (callers mix languages); an option number said on its own is that key; asking for
    an agent wins over every other phrase. Words count whole, and not when negated."""
    if not speech.strip():
        return ""
    keys = flow.keys
    candidates: list[tuple[str, Spoken]] = [(keys.agent, keys.agent_words)]
    candidates += [(key, option.keywords) for key, option in flow.menus[menu].options.items()]
    candidates += [(keys.back, keys.back_words), (keys.repeat, keys.repeat_words)]
    others = [other for other in flow.languages if other != language]
    words = flow.speech
    for words_of in (language, *others):
        number = spoken_number(
            speech, words.numbers.words(words_of), words.number_fillers.words(words_of)
        )
        if number is not None:
            return number
    for words_of in (language, *others):
        known = [word for _, spoken in candidates for word in spoken.words(words_of)]
        negations = words.negations.words(words_of)
        for key, spoken in candidates:
            if any(said(speech, word, negations, known) for word in spoken.words(words_of)):
                return key
    return ""


def hints(flow: Flow, menu: str, language: Language) -> str:
    """Every word the menu understands, to steer speech recognition."""
    keys = flow.keys
    groups = [keys.agent_words, keys.back_words, keys.repeat_words]
    groups += [option.keywords for option in flow.menus[menu].options.values()]
    return ", ".join(dict.fromkeys(word for group in groups for word in group.words(language)))
