"""The flow file's schema: languages, prompts, queues and menus, checked whole at start-up."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError, model_validator

Language = Literal["zh", "en"]
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
Text = dict[Language, Annotated[str, Field(min_length=1)]]
AnswerName = Literal[
    "freeze_reason", "latest_funds", "latest_transaction", "refund_request", "protective_freeze"
]


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


class Spoken(Strict):
    """Words a caller may say instead of pressing the key, per language."""

    zh: list[str] = []
    en: list[str] = []

    def words(self, language: str) -> list[str]:
        return list(getattr(self, language))


class GoTo(Strict):
    do: Literal["menu"]
    menu: str
    keywords: Spoken = Spoken()


class Inform(Strict):
    """Fixed information (a how-to, a warning), then the menu again."""

    do: Literal["say"]
    text: Text
    keywords: Spoken = Spoken()


class Answer(Strict):
    """An answer from the caller's own account: verified callers only."""

    do: Literal["answer"]
    answer: AnswerName
    # What follows the answer: this menu again, an offer of an agent, or a queue.
    then: Literal["menu", "offer", "queue"] = "menu"
    queue: str | None = None
    keywords: Spoken = Spoken()


class ToQueue(Strict):
    do: Literal["queue"]
    queue: str
    keywords: Spoken = Spoken()


Option = Annotated[GoTo | Inform | Answer | ToQueue, Field(discriminator="do")]


class Menu(Strict):
    prompt: Text
    # The queue key 0 leads to from this menu; menus without one use their parent's.
    queue: str | None = None
    options: dict[Key, Option]


class GlobalKeys(Strict):
    """Keys that work in every menu (SPEC §4): an agent, back, repeat."""

    agent: Key = "0"
    back: Key = "*"
    repeat: Key = "9"
    agent_words: Spoken = Spoken()
    back_words: Spoken = Spoken()
    repeat_words: Spoken = Spoken()


class AnswerTexts(Strict):
    """The words of the self-service answers; ``{names}`` are filled from the account."""

    needs_verification: Text
    account_active: Text
    account_frozen: Text  # {reason}
    no_funds_movement: Text
    funds_movement: Text  # {when} {kind} {amount} {status}
    expected_arrival: Text  # {when}
    no_transaction: Text
    transaction: Text  # {when} {kind} {amount} {status}
    failure_reason: Text  # {reason}
    refund_recorded: Text  # {reference} {amount}
    refund_not_possible: Text
    freeze_done: Text
    freeze_note: Text  # kept as the freeze reason on the account
    after_answer: Text
    offer_agent: Text


class Words(Strict):
    """How transaction kinds and statuses are spoken."""

    topup: Text
    withdrawal: Text
    payment: Text
    refund: Text
    pending: Text
    completed: Text
    failed: Text


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Period = Annotated[
    str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$")
]


class Hours(Strict):
    """When agents answer, in the flow's time zone; a day left out is closed."""

    weekly: dict[Weekday, list[Period]]
    holidays: list[date] = []


class WaitingTexts(Strict):
    """What callers hear around the agent queues."""

    position: Text  # {position}
    estimate: Text  # {minutes}
    callback_offer: Text
    callback_recorded: Text  # {number}
    long_wait: Text
    closed: Text
    voicemail_or_callback: Text
    voicemail: Text
    voicemail_saved: Text
    no_message: Text
    rate_call: Text
    thanks: Text


class Waiting(Strict):
    hold_music: AnyHttpUrl = AnyHttpUrl(
        "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"
    )
    # From this long in the queue on, each hold cycle offers a callback.
    callback_offer_after_seconds: Annotated[int, Field(ge=0)] = 60
    texts: WaitingTexts


class AgentTexts(Strict):
    """What agents hear on the agent line and before they take a caller."""

    ask_pin: Text
    not_recognised: Text
    menu: Text
    no_callers: Text
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


class Agents(Strict):
    texts: AgentTexts
    # How the whisper names languages, queues and answers, in the agent's language.
    language_names: dict[str, Text]
    queue_names: dict[str, Text]
    answer_names: dict[AnswerName, Text]


class Flow(Strict):
    brand: str
    default_language: Language
    timezone: str  # dates are spoken in this zone
    languages: dict[Language, LanguageSpec]
    queues: dict[str, Annotated[str, Field(min_length=1, max_length=64)]]
    keys: GlobalKeys = GlobalKeys()
    prompts: Prompts
    menus: dict[str, Menu]
    answers: AnswerTexts
    words: Words
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
        for language, text in self.prompts.sms_code.items():
            if "{code}" not in text:
                problems.append(f"prompts.sms_code.{language}: must contain {{code}}")
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
            if menu.queue is not None and menu.queue not in self.queues:
                problems.append(f"{place}.queue: unknown queue {menu.queue!r}")
            for key, option in menu.options.items():
                where = f"{place}.options.{key}"
                if key in reserved:
                    problems.append(f"{where}: key {key} is reserved for agent, back or repeat")
                if isinstance(option, GoTo) and option.menu not in self.menus:
                    problems.append(f"{where}.menu: no menu named {option.menu!r}")
                queue = getattr(option, "queue", None)
                if queue is not None and queue not in self.queues:
                    problems.append(f"{where}.queue: unknown queue {queue!r}")
                if isinstance(option, Answer) and option.then == "queue" and queue is None:
                    problems.append(f"{where}: 'then: queue' needs a queue")
        return problems

    def _texts(self) -> list[tuple[str, Text]]:
        texts = [(f"prompts.{name}", text) for name, text in self.prompts]
        texts += [(f"answers.{name}", text) for name, text in self.answers]
        texts += [(f"words.{name}", text) for name, text in self.words]
        texts += [(f"waiting.texts.{name}", text) for name, text in self.waiting.texts]
        texts += [(f"agents.texts.{name}", text) for name, text in self.agents.texts]
        for group in ("language_names", "queue_names", "answer_names"):
            texts += [
                (f"agents.{group}.{name}", text)
                for name, text in getattr(self.agents, group).items()
            ]
        for name, menu in self.menus.items():
            texts.append((f"menus.{name}.prompt", menu.prompt))
            texts += [
                (f"menus.{name}.options.{key}.text", option.text)
                for key, option in menu.options.items()
                if isinstance(option, Inform)
            ]
        return texts

    def parent(self, menu: str) -> str | None:
        """The menu whose option leads to ``menu`` (where ``*`` goes back to)."""
        for name, candidate in self.menus.items():
            for option in candidate.options.values():
                if isinstance(option, GoTo) and option.menu == menu:
                    return name
        return None

    def menu_queue(self, menu: str) -> str:
        """The queue key 0 leads to: the menu's own, its nearest ancestor's, or general."""
        seen: set[str] = set()
        current: str | None = menu
        while current is not None and current not in seen:
            seen.add(current)
            if self.menus[current].queue is not None:
                return self.menus[current].queue  # type: ignore[return-value]
            current = self.parent(current)
        return "general"

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
        flow = Flow.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            place = ".".join(str(part) for part in error["loc"]) or "(top level)"
            lines.append(f"{place}: {error['msg'].removeprefix('Value error, ')}")
        raise FlowError(f"{path}:\n  " + "\n  ".join(lines)) from None
    from callflows.lint import graph_problems  # lint reads this module's models

    problems = graph_problems(flow)
    if problems:
        raise FlowError(f"{path}:\n  " + "\n  ".join(problems))
    return flow
