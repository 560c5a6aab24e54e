"""The whole flow file: languages, queues, menus and the texts of every part, checked
for consistency as one document, and the questions the call flow asks of it."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator

from flowfile.agents import Agents
from flowfile.menus import AnswerOption, GlobalKeys, Menu, MenuOption, SayOption
from flowfile.queues import Hours, Waiting
from flowfile.speech import Speech
from flowfile.texts import FROZEN_BY_CALLER, AnswerTexts, Prompts, Words
from flowfile.vocabulary import Key, Language, Strict, Text

SPEECH_MODELS = (
    r"^(default|numbers_and_commands|phone_call|experimental_conversations"
    r"|experimental_utterances|googlev2_(long|short|telephony|telephony_short)"
    r"|deepgram_nova-[23][a-z0-9_-]*)$"
)


class LanguageSpec(Strict):
    key: Key  # pressed on the language menu
    say_language: str  # <Say language>, e.g. cmn-CN
    voice: str  # <Say voice>, e.g. Polly.Zhiyu
    speech_language: str  # <Gather language> for speech recognition
    # <Gather speechModel>: one Twilio accepts (twilio.com/docs/voice/twiml/gather#speechmodel)
    # that recognises ``speech_language``.
    speech_model: Annotated[str, Field(pattern=SPEECH_MODELS)]


class Flow(Strict):
    brand: str
    default_language: Language
    timezone: str  # dates are spoken in this zone
    languages: dict[Language, LanguageSpec]
    queues: dict[str, Annotated[str, Field(min_length=1, max_length=64)]]
    keys: GlobalKeys = GlobalKeys()
    speech: Speech = Speech()
    prompts: Prompts
    menus: dict[str, Menu]
    answers: AnswerTexts
    words: Words
    # Freeze and failure reasons kept as codes on accounts, said in the caller's language.
    reasons: dict[str, Text]
    hours: Hours
    waiting: Waiting
    agents: Agents

    @model_validator(mode="after")
    def _consistent(self) -> Flow:
        problems = []
        if self.default_language not in self.languages:
            problems.append(f"default_language: {self.default_language!r} is not in languages")
        keys = [spec.key for spec in self.languages.values()]
        if len(set(keys)) != len(keys):
            problems.append("languages: two languages share a key")
        if "general" not in self.queues:
            problems.append("queues: the 'general' queue is required (callers fall back to it)")
        if "main" not in self.menus:
            problems.append("menus: the 'main' menu is required")
        for place, text in self._texts():
            for language in self.languages:
                if language not in text:
                    problems.append(f"{place}: no {language} text")
        for language, sms in self.prompts.sms_code.items():
            if "{code}" not in sms:
                problems.append(f"prompts.sms_code.{language}: must contain {{code}}")
        texts = self.agents.texts
        placeholders: list[tuple[str, Text, tuple[str, ...]]] = [
            ("agents.texts.callback_whisper", texts.callback_whisper, ("{who}", "{topic}")),
            ("agents.texts.callback_number", texts.callback_number, ("{digits}",)),
        ]
        for place, text, names in placeholders:
            for language, words in text.items():
                problems += [
                    f"{place}.{language}: must contain {name}"
                    for name in names
                    if name not in words
                ]
        for language in self.languages:
            if language not in self.waiting.rating_keys:
                problems.append(f"waiting.rating_keys: no keys for {language}")
        if FROZEN_BY_CALLER not in self.reasons:
            problems.append(
                f"reasons: {FROZEN_BY_CALLER!r} is required (kept when a caller freezes their"
                " account)"
            )
        problems += self._references()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _references(self) -> list[str]:
        """Menus, queues and keys that options point at must exist and not clash."""
        problems = []
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"timezone: {self.timezone!r} is not a time zone like Asia/Shanghai")
        for queue in self.queues:
            if queue not in self.agents.queue_names:
                problems.append(f"agents.queue_names: no name for queue {queue!r}")
        reserved = {self.keys.agent, self.keys.back, self.keys.repeat}
        if len(reserved) != 3:
            problems.append("keys: agent, back and repeat need three different keys")
        for name, menu in self.menus.items():
            place = f"menus.{name}"
            named_queues = {"queue": menu.queue, "unverified_queue": menu.unverified_queue}
            for field, named in named_queues.items():
                if named is not None and named not in self.queues:
                    problems.append(f"{place}.{field}: unknown queue {named!r}")
            if menu.parent is not None and menu.parent not in self.menus:
                problems.append(f"{place}.parent: no menu named {menu.parent!r}")
            for key, option in menu.options.items():
                where = f"{place}.options.{key}"
                if key in reserved:
                    problems.append(f"{where}: key {key} is reserved for agent, back or repeat")
                if isinstance(option, MenuOption) and option.menu not in self.menus:
                    problems.append(f"{where}.menu: no menu named {option.menu!r}")
                target: str | None = getattr(option, "queue", None)
                if target is not None and target not in self.queues:
                    problems.append(f"{where}.queue: unknown queue {target!r}")
                if isinstance(option, AnswerOption) and option.then == "queue" and target is None:
                    problems.append(f"{where}: 'then: queue' needs a queue")
        return problems

    def _texts(self) -> list[tuple[str, Text]]:
        texts = [(f"prompts.{name}", text) for name, text in self.prompts]
        texts += [(f"answers.{name}", text) for name, text in self.answers]
        texts += [(f"words.{name}", text) for name, text in self.words]
        texts += [(f"reasons.{code}", text) for code, text in self.reasons.items()]
        texts += [(f"waiting.texts.{name}", text) for name, text in self.waiting.texts]
        texts += [(f"agents.texts.{name}", text) for name, text in self.agents.texts]
        groups: dict[str, dict[str, Text]] = {
            "language_names": {str(key): text for key, text in self.agents.language_names.items()},
            "queue_names": self.agents.queue_names,
            "answer_names": self.agents.answer_names,
            "dispositions": self.agents.dispositions,
        }
        for group, named in groups.items():
            texts += [(f"agents.{group}.{name}", text) for name, text in named.items()]
        for name, menu in self.menus.items():
            texts.append((f"menus.{name}.prompt", menu.prompt))
            texts += [
                (f"menus.{name}.options.{key}.text", option.text)
                for key, option in menu.options.items()
                if isinstance(option, SayOption)
            ]
        return texts

    def parent(self, menu: str) -> str | None:
        """Where ``*`` goes back to from ``menu``: the menu it names, else the menu
        whose option leads to it."""
        named = self.menus[menu].parent if menu in self.menus else None
        if named is not None:
            return named
        for name, candidate in self.menus.items():
            for option in candidate.options.values():
                if isinstance(option, MenuOption) and option.menu == menu:
                    return name
        return None

    def menu_queue(self, menu: str) -> str:
        """The queue key 0 leads to: the menu's own, its nearest ancestor's, or general."""
        seen: set[str] = set()
        current: str | None = menu
        while current is not None and current not in seen:
            seen.add(current)
            queue = self.menus[current].queue
            if queue is not None:
                return queue
            current = self.parent(current)
        return "general"

    def queue_name(self, queue: str) -> str:
        return self.queues[queue]
