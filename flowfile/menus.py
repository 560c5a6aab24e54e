"""Menus and their options: what each key (or spoken word) does. Each kind of option
is named after its ``do`` (``do: say`` is a SayOption), and so is what the engine
decides for it (callflows.engine)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from flowfile.vocabulary import Key, Spoken, Strict, Text


def known_answer(name: str, info: ValidationInfo) -> str:
    """Answer names are the self-service answers the application registers
    (``load_flow(..., answers=...)``), so adding one is one edit in one place."""
    known = (info.context or {}).get("answers")
    if known is not None and name not in known:
        raise ValueError(f"unknown answer {name!r}; known: {', '.join(sorted(known))}")
    return name


class MenuOption(Strict):
    """Another menu."""

    do: Literal["menu"]
    menu: str
    keywords: Spoken = Spoken()


class SayOption(Strict):
    """Fixed information (a how-to, a warning), then the menu again."""

    do: Literal["say"]
    text: Text
    keywords: Spoken = Spoken()


class AnswerOption(Strict):
    """An answer from the caller's own account: verified callers only."""

    do: Literal["answer"]
    answer: str
    # What follows the answer: this menu again, an offer of an agent, or a queue.
    then: Literal["menu", "offer", "queue"] = "menu"
    queue: str | None = None
    keywords: Spoken = Spoken()

    _known = field_validator("answer")(known_answer)


class QueueOption(Strict):
    """Straight to agents, in this queue."""

    do: Literal["queue"]
    queue: str
    keywords: Spoken = Spoken()


Option = Annotated[MenuOption | SayOption | AnswerOption | QueueOption, Field(discriminator="do")]


class Menu(Strict):
    prompt: Text
    # The queue key 0 leads to from this menu; menus without one use their parent's.
    queue: str | None = None
    # Where `*` goes back to, when several menus lead here.
    parent: str | None = None
    # A caller who is not verified goes straight to this queue instead of this menu
    # (the stolen-account branch: they may not have their phone to verify with).
    unverified_queue: str | None = None
    options: dict[Key, Option]


class GlobalKeys(Strict):
    """Keys that work in every menu (SPEC §4): an agent, back, repeat."""

    agent: Key = "0"
    back: Key = "*"
    repeat: Key = "9"
    # Carries out what cannot be undone (a refund request, a freeze) once it is read back.
    confirm: Key = "1"
    agent_words: Spoken = Spoken()
    back_words: Spoken = Spoken()
    repeat_words: Spoken = Spoken()
