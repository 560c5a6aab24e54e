"""The flow engine: "the caller is in menu M and pressed or said X" → what happens next.

Pure: it reads the flow and the input, and neither Flask nor the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowfile.flow import Flow
from flowfile.menus import AnswerOption, MenuOption, QueueOption, SayOption
from flowfile.vocabulary import Language, Spoken, Text


@dataclass(frozen=True)
class ShowMenu:
    menu: str


@dataclass(frozen=True)
class SayText:
    menu: str
    text: Text


@dataclass(frozen=True)
class GiveAnswer:
    menu: str
    option: AnswerOption


@dataclass(frozen=True)
class ToAgent:
    queue: str


@dataclass(frozen=True)
class Missed:
    menu: str


Outcome = ShowMenu | SayText | GiveAnswer | ToAgent | Missed


def choose(
    flow: Flow, menu: str, digits: str, speech: str, language: Language
) -> tuple[str, Outcome]:
    """The key the caller chose (spoken words mapped to their key) and its outcome."""
    key = digits[:1] if digits else heard_key(flow, menu, speech, language)
    keys = flow.keys
    if key == keys.agent:
        return key, ToAgent(flow.menu_queue(menu))
    if key == keys.back:
        return key, ShowMenu(flow.parent(menu) or menu)
    if key == keys.repeat:
        return key, ShowMenu(menu)
    option = flow.menus[menu].options.get(key)
    if isinstance(option, MenuOption):
        return key, ShowMenu(option.menu)
    if isinstance(option, SayOption):
        return key, SayText(menu, option.text)
    if isinstance(option, AnswerOption):
        return key, GiveAnswer(menu, option)
    if isinstance(option, QueueOption):
        return key, ToAgent(option.queue)
    return key, Missed(menu)


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
