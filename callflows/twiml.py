"""Every TwiML document Hotline returns is built here, from VoiceResponse objects."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from callflows.flow import Flow, Text

# A flow text, or one with the values for its {names}.
Line = Text | tuple[Text, dict[str, str]]

# Said when Hotline itself has failed (database down, say), so it cannot rely
# on the flow file or know the caller's language: both languages, fixed voices.
APOLOGY = (
    ("对不起，系统暂时出现问题。正在为您转接人工客服。", "cmn-CN", "Polly.Zhiyu"),
    (
        "We are sorry, something went wrong on our side. Connecting you to an agent.",
        "en-US",
        "Polly.Joanna",
    ),
)


class Voice:
    """Speaks flow prompts in one language, with that language's voice."""

    def __init__(self, flow: Flow, language: str) -> None:
        self.flow = flow
        self.language = language
        self.spec = flow.languages[language]  # type: ignore[index]

    def say(self, parent: VoiceResponse | Gather, line: Line) -> None:
        """Speak a flow text, or a (text, values) pair whose ``{names}`` are filled in."""
        text, values = line if isinstance(line, tuple) else (line, {})
        words = text[self.language]  # type: ignore[index]
        parent.say(
            words.format(**values) if values else words,
            language=self.spec.say_language,
            voice=self.spec.voice,
        )

    def ask(
        self,
        prompts: Sequence[Line],
        action: str,
        *,
        single_key: bool = False,
        timeout: int = 10,
        speech_hints: str | None = None,
    ) -> VoiceResponse:
        """A Gather posting to ``action``; silence posts there too, with no input.

        ``single_key`` takes one key at once (menus), ``#`` and ``*`` included;
        otherwise input ends with ``#``. ``speech_hints`` also listens for speech
        in the caller's language, steered towards those words.
        """
        response = VoiceResponse()
        gather = Gather(
            action=action,
            method="POST",
            timeout=timeout,
            finish_on_key="" if single_key else "#",
            num_digits=1 if single_key else None,
            input="dtmf speech" if speech_hints is not None else "dtmf",
            language=self.spec.speech_language if speech_hints is not None else None,
            hints=speech_hints or None,
            speech_timeout="auto" if speech_hints is not None else None,
        )
        for line in prompts:
            self.say(gather, line)
        response.append(gather)
        # No input: Twilio goes on past the Gather, so come back with no Digits.
        response.redirect(action, method="POST")
        return response


def language_menu(flow: Flow, action: str) -> VoiceResponse:
    """The greeting: each language offers itself in its own voice."""
    response = VoiceResponse()
    gather = Gather(action=action, method="POST", timeout=5, num_digits=1, input="dtmf")
    for language in flow.languages:
        Voice(flow, language).say(gather, flow.prompts.language_menu)
    response.append(gather)
    response.redirect(action, method="POST")
    return response


def apology(queue_name: str) -> VoiceResponse:
    response = VoiceResponse()
    for words, language, voice in APOLOGY:
        response.say(words, language=language, voice=voice)
    # No action URL: whatever went wrong must not be called again after the agent call.
    response.enqueue(queue_name)
    return response


def hang_up() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response


def as_http(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")
