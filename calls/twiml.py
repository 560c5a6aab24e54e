"""Every TwiML document Hotline returns is built here, from twilio's VoiceResponse
objects; no other package imports ``twilio.twiml`` (an import contract checks it)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from string import Formatter
from typing import TypeAlias

from flask import Response
from twilio.twiml.voice_response import Conference, Dial, Gather, VoiceResponse

from calls.spoken import script_of
from flowfile.flow import Flow
from flowfile.vocabulary import Language, Text
from telephony.endpoints import Client, Endpoint, Phone, Sip

# What a webhook answers with.
Document: TypeAlias = VoiceResponse


@dataclass(frozen=True)
class Verbatim:
    """Free text from the database (a reason that is no known code, a name): said as it
    is, by the voice of its own script, in a <Say> of its own when that is not the voice
    speaking around it; a Mandarin voice cannot read English words, nor the reverse."""

    text: str


# A flow text, or one with the values for its {names}: words in the voice's language,
# free text, or a flow text of its own (filled in the same way).
Line: TypeAlias = "Text | tuple[Text, Mapping[str, Value]]"
Value: TypeAlias = "str | Verbatim | Line"
# The longest message a caller may leave on the failure path.
FAILURE_MESSAGE_SECONDS = 120
# Seconds between apologies to a caller in a room whose wait document keeps failing.
ROOM_WAIT_APOLOGY_PAUSE = 10
# Where verbs go: a document, or a Gather listening while they play.
Container: TypeAlias = VoiceResponse | Gather

# The failure path (calls.failure): said when Hotline itself has failed (database down,
# say), so it relies on nothing that may have failed, the flow's texts included, and
# cannot know the caller's language: fixed words, each language in its own voice.
_ZH = ("cmn-CN", "Polly.Zhiyu")
_EN = ("en-US", "Polly.Joanna")
Fixed: TypeAlias = tuple[tuple[str, str, str], ...]
CALLER_APOLOGY: Fixed = (
    ("对不起，系统暂时出现问题。", *_ZH),
    ("We are sorry, something went wrong on our side.", *_EN),
)
TO_OVERFLOW: Fixed = (
    ("正在为您转接客服人员，请稍候。", *_ZH),
    ("Connecting you to a colleague, please hold.", *_EN),
)
OVERFLOW_UNANSWERED: Fixed = (
    ("对不起，客服人员暂时无法接听。", *_ZH),
    ("We are sorry, nobody could take your call.", *_EN),
)
TAKE_MESSAGE: Fixed = (
    (
        "现在无法为您接通人工客服。请在提示音后留下您的问题和联系电话，"
        "留言完毕请按井号键，我们会尽快给您回电。",
        *_ZH,
    ),
    (
        "We cannot put you through to an agent right now. After the tone, please leave"
        " your question and a number to reach you, then press the hash key. We will call"
        " you back.",
        *_EN,
    ),
)
NO_MESSAGE: Fixed = (
    ("没有录到您的留言。再见。", *_ZH),
    ("We did not record a message. Goodbye.", *_EN),
)
MESSAGE_KEPT: Fixed = (
    ("您的留言已收到，我们会尽快给您回电。再见。", *_ZH),
    ("Thank you, we have your message and will call you back. Goodbye.", *_EN),
)
AGENT_APOLOGY: Fixed = (("Sorry, something went wrong. Please call the agent line again.", *_EN),)
# From the first letter or digit to the last.
_WORDS = re.compile(r"\w(?:.*\w)?", re.DOTALL)


class Voice:
    """Speaks flow texts in one language, with that language's voice."""

    def __init__(self, flow: Flow, language: Language) -> None:
        self.flow = flow
        self.language = language
        self.spec = flow.languages[language]

    def say(self, parent: VoiceResponse | Gather, line: Line) -> None:
        """Speak a flow text, or a (text, values) pair whose ``{names}`` are filled in;
        free text in another script is a <Say> of its own, in that language's voice."""
        for language, words in self._runs(line):
            spec = self.flow.languages[language]
            parent.say(words, language=spec.say_language, voice=spec.voice)

    def _runs(self, line: Line) -> list[tuple[Language, str]]:
        """The words of ``line`` as runs, each for one language's voice; a run of signs
        alone (the full stop after a foreign reason) is nothing to say."""
        runs: list[tuple[Language, str]] = []
        for language, words in self._pieces(line):
            if runs and runs[-1][0] == language:
                runs[-1] = (language, runs[-1][1] + words)
            else:
                runs.append((language, words))
        return [(language, words.strip()) for language, words in runs if _WORDS.search(words)]

    def _pieces(self, line: Line) -> Iterator[tuple[Language, str]]:
        text, values = line if isinstance(line, tuple) else (line, {})
        template = text[self.language]
        if not values:  # nothing to fill: braces are words
            yield self.language, template
            return
        for literal, name, _, _ in Formatter().parse(template):
            yield self.language, literal
            if name is None:
                continue
            value = values[name]
            if isinstance(value, Verbatim):
                yield from self._verbatim(value.text)
            elif isinstance(value, str):
                yield self.language, value
            else:
                yield from self._pieces(value)

    def _verbatim(self, text: str) -> Iterator[tuple[Language, str]]:
        """Free text in the voice of its script; the signs around its words stay with the
        voice around it."""
        script, words = script_of(text), _WORDS.search(text)
        if script is None or script == self.language or words is None:
            yield self.language, text
            return
        yield self.language, text[: words.start()]
        yield (script if script in self.flow.languages else self.language), words.group()
        yield self.language, text[words.end() :]

    def speak(self, lines: Sequence[Line]) -> Document:
        response = VoiceResponse()
        for line in lines:
            self.say(response, line)
        return response

    def goodbye(self, lines: Sequence[Line] = ()) -> Document:
        response = self.speak(lines)
        response.hangup()
        return response

    def ask(
        self,
        prompts: Sequence[Line],
        action: str,
        *,
        single_key: bool = False,
        timeout: int = 10,
        speech_hints: str | None = None,
        finish_key_alone: bool = False,
    ) -> Document:
        """A question posting to ``action``; silence posts there too, with no input.

        ``single_key`` takes one key at once (menus), ``#`` and ``*`` included;
        otherwise input ends with ``#``, and with ``finish_key_alone`` a ``#`` with no
        digits before it is posted too (as ``FinishedOnKey``). ``speech_hints`` also
        listens for speech in the caller's language, steered towards those words.
        """
        response = VoiceResponse()
        listening = speech_hints is not None
        gather = _gather(
            action,
            single_key=single_key,
            timeout=timeout,
            input="dtmf speech" if listening else "dtmf",
            language=self.spec.speech_language if listening else None,
            hints=speech_hints or None,
            # An explicit model that knows the language, and a whole-number timeout:
            # Twilio warns (13335) against "auto" with a model
            # (twilio.com/docs/voice/twiml/gather#speechmodel).
            speech_model=self.spec.speech_model if listening else None,
            speech_timeout=str(self.flow.speech.timeout) if listening else None,
            action_on_empty_result="true" if finish_key_alone else None,
        )
        for line in prompts:
            self.say(gather, line)
        response.append(gather)
        # No input: Twilio goes on past the Gather, so come back with no Digits.
        response.redirect(action, method="POST")
        return response

    def offer_key(self, response: Document, prompt: Line, action: str, *, timeout: int) -> Gather:
        """Listen for one key while ``prompt`` plays, and whatever is added to the Gather
        returned; with none, the document goes on. Keys only: a wait document's Gather
        may take one input kind, not both."""
        gather = _gather(action, single_key=True, timeout=timeout, input="dtmf")
        self.say(gather, prompt)
        response.append(gather)
        return gather


class EveryVoice(Voice):
    """Says each text in every language of the flow, each in its own voice, the default
    first: for words said before Hotline may know whom it speaks to (the agent line
    before the PIN, SPEC §5)."""

    def __init__(self, flow: Flow) -> None:
        super().__init__(flow, flow.default_language)

    def say(self, parent: VoiceResponse | Gather, line: Line) -> None:
        default_first = sorted(self.flow.languages, key=lambda name: name != self.language)
        for language in default_first:
            Voice(self.flow, language).say(parent, line)


def language_menu(flow: Flow, action: str) -> Document:
    """The greeting: each language offers itself in its own voice."""
    response = VoiceResponse()
    gather = _gather(action, single_key=True, timeout=5, input="dtmf")
    for language in flow.languages:
        Voice(flow, language).say(gather, flow.prompts.language_menu)
    response.append(gather)
    response.redirect(action, method="POST")
    return response


def enqueue(response: Document, queue_name: str, *, action: str, wait_url: str) -> Document:
    response.enqueue(
        queue_name, action=action, method="POST", wait_url=wait_url, wait_url_method="POST"
    )
    return response


def leave() -> Document:
    """Out of the Twilio queue; the Enqueue action then says what follows."""
    response = VoiceResponse()
    response.leave()
    return response


def hold_music(parent: Container, url: str, *, plays: int, pause: int) -> None:
    """``plays`` plays of a hold track, then ``pause`` seconds of quiet. Inside a Gather,
    a key pressed during the music is heard (a Gather may hold Play and Pause)."""
    parent.play(url, loop=plays)
    if pause:
        parent.pause(length=pause)


def pause(seconds: int) -> Document:
    response = VoiceResponse()
    response.pause(length=seconds)
    return response


def record(response: Document, *, action: str, max_length: int) -> None:
    response.record(
        action=action, method="POST", max_length=max_length, finish_on_key="#", play_beep=True
    )


ROOM_PREFIX = "hotline-"


def conference_room(caller_sid: str) -> str:
    """The room where one caller meets one agent."""
    return ROOM_PREFIX + caller_sid


def caller_in_room(room: str) -> str | None:
    """The CallSid of the caller whose room this is, if it is one of Hotline's."""
    return room.removeprefix(ROOM_PREFIX) if room.startswith(ROOM_PREFIX) else None


def join_conference(
    response: Document, caller_sid: str, *, action: str, wait_url: str, events: str
) -> Document:
    """Into the caller's room; it ends when either side leaves, and then Twilio requests
    ``action`` (with no DialCallDuration: the talk time comes from the room's events).
    Alone there, the call hears ``wait_url``'s document, requested again each time it
    ends; Twilio posts the room's start, end, joins and leaves to ``events``
    (twilio.com/docs/voice/twiml/conference)."""
    dial = Dial(action=action, method="POST")
    dial.append(
        Conference(
            conference_room(caller_sid),
            start_conference_on_enter=True,
            end_conference_on_exit=True,
            beep=False,
            wait_url=wait_url,
            wait_method="POST",
            status_callback=events,
            status_callback_event="start end join leave",
            status_callback_method="POST",
        )
    )
    response.append(dial)
    return response


def dial_endpoint(dial: Dial, endpoint: Endpoint) -> Dial:
    """Reach a person where they are, with the <Dial> noun Twilio has for it: <Number>
    for a phone, <Client> for a Voice SDK identity (twilio.com/docs/voice/twiml/client),
    <Sip> for a SIP URI (twilio.com/docs/voice/twiml/sip)."""
    match endpoint:
        case Phone(number):
            dial.number(number)
        case Client(identity):
            dial.client(identity)
        case Sip(uri):
            dial.sip(uri)
    return dial


def dial_overflow(response: Document, overflow: Endpoint, *, action: str | None = None) -> Document:
    """Put the caller through to ``OVERFLOW_NUMBER``: humans outside Hotline, at a phone
    number, a SIP URI or a ``client:`` identity. Twilio requests ``action``, if any,
    when that call ends or fails, with ``DialCallStatus``."""
    dial = Dial(action=action, method="POST") if action else Dial()
    response.append(dial_endpoint(dial, overflow))
    return response


def caller_apology(
    overflow_number: Endpoint | None, *, overflow_action: str, message_action: str
) -> Document:
    """The apology, then a human: a dial to ``OVERFLOW_NUMBER`` when there is one (its
    ``overflow_action`` hears how that went), else a message for agents, recorded."""
    response = _fixed(CALLER_APOLOGY)
    if overflow_number:
        _say_fixed(response, TO_OVERFLOW)
        return dial_overflow(response, overflow_number, action=overflow_action)
    return take_message(response, action=message_action)


def take_message(response: Document, *, action: str, preface: Fixed = ()) -> Document:
    """A voicemail on the failure path: Twilio posts the recording to ``action``."""
    _say_fixed(response, (*preface, *TAKE_MESSAGE))
    record(response, action=action, max_length=FAILURE_MESSAGE_SECONDS)
    # An empty recording does not request the action: Twilio goes on here.
    _say_fixed(response, NO_MESSAGE)
    response.hangup()
    return response


def wait_apology() -> Document:
    """A queue's wait document (or its Gather's action) that failed: the apology, then
    out of the queue, so that the Enqueue action, where Dial and Record may run, takes
    the caller on (to the failure path if Hotline is still failing). A wait document
    may hold only Play, Say, Pause, Gather, Redirect, Leave and Hangup
    (twilio.com/docs/voice/twiml/enqueue, waitUrl)."""
    response = _fixed(CALLER_APOLOGY)
    response.leave()
    return response


def room_wait_apology() -> Document:
    """A room's wait document that failed: the apology and a pause, after which Twilio
    asks again. A conference's wait document may hold only Say, Play, Pause and
    Redirect (twilio.com/docs/api/errors/13238): the caller cannot be moved from here."""
    response = _fixed(CALLER_APOLOGY)
    response.pause(length=ROOM_WAIT_APOLOGY_PAUSE)
    return response


def fixed_goodbye(lines: Fixed) -> Document:
    response = _fixed(lines)
    response.hangup()
    return response


def agent_apology() -> Document:
    return fixed_goodbye(AGENT_APOLOGY)


def hang_up() -> Document:
    response = VoiceResponse()
    response.hangup()
    return response


def empty() -> Document:
    """Nothing to play: a status callback's answer, or a wait document's turn that ends
    (Twilio then asks for the wait document again)."""
    return VoiceResponse()


def as_http(response: Document) -> Response:
    return Response(str(response), mimetype="text/xml")


def _fixed(lines: Fixed) -> Document:
    return _say_fixed(VoiceResponse(), lines)


def _say_fixed(response: Document, lines: Fixed) -> Document:
    for words, language, voice in lines:
        response.say(words, language=language, voice=voice)
    return response


def _gather(
    action: str, *, single_key: bool, timeout: int, input: str, **speech: str | None
) -> Gather:
    return Gather(
        action=action,
        method="POST",
        timeout=timeout,
        finish_on_key="" if single_key else "#",
        num_digits=1 if single_key else None,
        input=input,
        **speech,
    )
