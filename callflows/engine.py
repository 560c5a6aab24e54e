"""The flow engine: "the caller is in menu M and pressed or said X" → a decision.

Pure: it reads the flow and typed values (the caller's language, whether they are
verified, their misses so far), and neither Flask nor the database. Decisions are
named after the option kinds of the flow file (``do: menu|say|answer|queue``);
callflows.journey carries them out. Where a verification verdict and the offer of an
agent lead is decided here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowfile.flow import Flow
from flowfile.menus import AnswerOption, MenuOption, QueueOption, SayOption
from flowfile.vocabulary import Language, Spoken, Text
from verification.policy import Verdict

# Wrong keys, unknown words or silences in a row before the caller reaches an agent.
MISSES_BEFORE_AGENT = 3


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
class Say:
    """``do: say``: the option's fixed words, then ``then``."""

    text: Text
    then: ShowMenu


@dataclass(frozen=True)
class GiveAnswer:
    """``do: answer`` for a verified caller: the answer from their account, then ``then``."""

    answer: str
    then: ShowMenu | ToQueue


@dataclass(frozen=True)
class Refused:
    """``do: answer`` for a caller who is not verified: no account data, but ``then``."""

    answer: str
    then: ShowMenu


@dataclass(frozen=True)
class Missed:
    """Nothing the menu knows, or silence: ``misses`` in a row now, then ``then``.
    Every other decision ends the run of misses."""

    misses: int
    then: ShowMenu | ToQueue


Decision = ShowMenu | ToQueue | Say | GiveAnswer | Refused | Missed


@dataclass(frozen=True)
class OfferAgent:
    """After verification without a verified caller: an agent (0, or staying on the
    line) or the menus anyway (1), after ``preface``."""

    preface: tuple[Text, ...] = ()


def choose(
    flow: Flow,
    menu: str,
    digits: str,
    speech: str,
    language: Language,
    *,
    verified: bool,
    misses: int,
) -> tuple[str, Decision]:
    """The key the caller chose (spoken words mapped to their key) and the decision."""
    key = digits[:1] if digits else heard_key(flow, menu, speech, language)
    keys = flow.keys
    if key == keys.agent:
        return key, ToQueue(flow.menu_queue(menu))
    if key == keys.back:
        return key, ShowMenu(flow.parent(menu) or menu)
    if key == keys.repeat:
        return key, ShowMenu(menu)
    option = flow.menus[menu].options.get(key)
    texts = flow.answers
    if isinstance(option, MenuOption):
        straight_to = flow.menus[option.menu].unverified_queue
        if straight_to is not None and not verified:
            return key, ToQueue(straight_to)
        return key, ShowMenu(option.menu)
    if isinstance(option, SayOption):
        return key, Say(option.text, ShowMenu(menu, (texts.after_answer,)))
    if isinstance(option, AnswerOption):
        if not verified:
            return key, Refused(option.answer, ShowMenu(menu, (texts.needs_verification,)))
        return key, GiveAnswer(option.answer, _after_answer(flow, menu, option))
    if isinstance(option, QueueOption):
        return key, ToQueue(option.queue)
    return key, _missed(flow, menu, misses + 1)


def _after_answer(flow: Flow, menu: str, option: AnswerOption) -> ShowMenu | ToQueue:
    """The option's ``then``: its queue, or this menu after an offer of an agent or
    the short line of what the caller can do next."""
    # The flow file is refused at load when `then: queue` names no queue.
    if option.then == "queue" and option.queue is not None:
        return ToQueue(option.queue)
    closing = flow.answers.offer_agent if option.then == "offer" else flow.answers.after_answer
    return ShowMenu(menu, (closing,))


def _missed(flow: Flow, menu: str, misses: int) -> Missed:
    if misses >= MISSES_BEFORE_AGENT:
        # Never hang up on a caller who cannot find their way: give them a person.
        return Missed(misses, ToQueue(flow.menu_queue(menu)))
    return Missed(misses, ShowMenu(menu, (flow.prompts.not_an_option,)))


def after_verification(flow: Flow, verdict: Verdict) -> ShowMenu | OfferAgent:
    """A verified caller reaches the main menu; anyone else is offered an agent, told why
    when the caller ID's customer is locked or no code could be texted to them."""
    prompts = flow.prompts
    if verdict is Verdict.VERIFIED:
        return ShowMenu("main", (prompts.verified,))
    if verdict is Verdict.LOCKED:
        return OfferAgent((prompts.locked,))
    if verdict is Verdict.SMS_FAILED:
        return OfferAgent((prompts.sms_unavailable,))
    return OfferAgent()


def after_offer(digits: str) -> ShowMenu | ToQueue:
    """1: the menus, unverified; 0, any other key or silence: the caller stayed on the
    line for an agent."""
    if digits == "1":
        return ShowMenu("main")
    return ToQueue("general")


def heard_key(flow: Flow, menu: str, speech: str, language: Language) -> str:
    """The key whose words the caller said, in the call's language first, then any other
    (callers mix languages); asking for an agent wins over everything."""
    said = speech.casefold()
    if not said:
        return ""
    keys = flow.keys
    candidates: list[tuple[str, Spoken]] = [(keys.agent, keys.agent_words)]
    candidates += [(key, option.keywords) for key, option in flow.menus[menu].options.items()]
    candidates += [(keys.back, keys.back_words), (keys.repeat, keys.repeat_words)]
    others = [other for other in flow.languages if other != language]
    for words_of in (language, *others):
        for key, words in candidates:
            if any(word.casefold() in said for word in words.words(words_of)):
                return key
    return ""


def hints(flow: Flow, menu: str, language: Language) -> str:
    """Every word the menu understands, to steer speech recognition."""
    keys = flow.keys
    groups = [keys.agent_words, keys.back_words, keys.repeat_words]
    groups += [option.keywords for option in flow.menus[menu].options.values()]
    return ", ".join(dict.fromkeys(word for group in groups for word in group.words(language)))
