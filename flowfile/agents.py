"""What agents hear on the agent line and before they take a caller."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from flowfile.menus import known_answer
from flowfile.vocabulary import Language, Strict, Text


class AgentTexts(Strict):
    ask_pin: Text
    not_recognised: Text
    menu: Text
    no_callers: Text
    on_a_call: Text  # key 1 while busy with a call elsewhere (the desk, a ring): nobody
    ring: Text  # a rung agent hears this first, and presses a key for the whisper
    whisper: Text  # {verified} {who} {language} {topic}
    named: Text  # {name}: what {who} is for a verified caller
    verified: Text
    unverified: Text
    tried: Text  # {steps}
    ticket: Text  # {reference}
    accept: Text
    gone: Text
    connecting: Text
    available: Text
    offline: Text
    wrap_up: Text
    # Callbacks (queueing.callbacks): the whisper "callback for {who}, about {topic}",
    # {who} a name or ``callback_number`` ({digits}: the number's last four), then
    # ``accept``; what the agent hears while the customer's phone rings; and, in the
    # wrap-up, that the customer was not reached.
    callback_whisper: Text
    callback_number: Text
    callback_calling: Text
    callback_unanswered: Text


DispositionCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class Agents(Strict):
    texts: AgentTexts
    # How the whisper names languages, queues and answers, in the agent's language.
    language_names: dict[Language, Text]
    queue_names: dict[str, Text]
    answer_names: dict[str, Text]
    # The wrap-up's disposition codes (kept on the agent's call), with their words on
    # the desk; the first is the desk's default.
    dispositions: Annotated[dict[DispositionCode, Text], Field(min_length=1)]

    @field_validator("answer_names")
    @classmethod
    def _known_answers(cls, names: dict[str, Text], info: ValidationInfo) -> dict[str, Text]:
        for name in names:
            known_answer(name, info)
        return names
