"""The flow file's schema: languages, prompts, queues and menus, checked whole at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Language = Literal["zh", "en"]
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
Text = dict[Language, Annotated[str, Field(min_length=1)]]


class FlowError(Exception):
    """The flow file is unusable; the message names the file and the place."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LanguageSpec(Strict):
    key: Key  # pressed on the language menu
    say_language: str  # <Say language>, e.g. cmn-CN
    voice: str  # <Say voice>, e.g. Polly.Zhiyu
    speech_language: str  # <Gather language> for speech recognition


class Prompts(Strict):
    language_menu: Text
    ask_number: Text
    ask_pin: Text
    ask_sms_code: Text
    ask_pin_or_code: Text
    no_input: Text
    not_matched: Text
    locked: Text
    sms_unavailable: Text
    agent_offer: Text
    verified: Text
    not_an_option: Text
    hold: Text
    # The SMS that carries a one-time code; must contain {code}.
    sms_code: Text


class QueueOption(Strict):
    queue: str


class Menu(Strict):
    prompt: Text
    options: dict[Key, QueueOption]


class Flow(Strict):
    brand: str
    default_language: Language
    languages: dict[Language, LanguageSpec]
    queues: dict[str, Annotated[str, Field(min_length=1, max_length=64)]]
    prompts: Prompts
    menus: dict[str, Menu]

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
        for language, text in self.prompts.sms_code.items():
            if "{code}" not in text:
                problems.append(f"prompts.sms_code.{language}: must contain {{code}}")
        for name, menu in self.menus.items():
            for key, option in menu.options.items():
                if option.queue not in self.queues:
                    problems.append(f"menus.{name}.options.{key}: unknown queue {option.queue!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _texts(self) -> list[tuple[str, Text]]:
        texts = [(f"prompts.{name}", text) for name, text in self.prompts]
        texts += [(f"menus.{name}.prompt", menu.prompt) for name, menu in self.menus.items()]
        return texts

    def queue_name(self, queue: str) -> str:
        return self.queues[queue]


def load_flow(path: Path) -> Flow:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FlowError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise FlowError(f"{path}: not valid YAML: {exc}") from None
    try:
        return Flow.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            place = ".".join(str(part) for part in error["loc"]) or "(top level)"
            lines.append(f"{place}: {error['msg'].removeprefix('Value error, ')}")
        raise FlowError(f"{path}:\n  " + "\n  ".join(lines)) from None
