"""What Twilio's speech recognition accepts in a <Gather> that listens for speech: the
``speechModel`` values, the languages each recognises, and ``speechTimeout``
(twilio.com/docs/voice/twiml/gather#speechmodel, #language, #speechtimeout).

A Gather whose language its model does not recognise fails with an error notification
(13331, 13512: twilio.com/docs/api/errors/13331); an unknown model is 13334; a
``speechTimeout="auto"`` beside an explicit ``speechModel`` is warning 13335
(twilio.com/docs/api/errors/13335). The language lists below are the part of Twilio's
that this simulator knows, from the pages named; a language not listed counts as
unsupported, so extend a list (citing its page) before relying on another language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The generic models' languages, from Twilio's table (#generic-speech-to-text-models).
_PHONE_CALL = frozenset(
    ["en-US", "en-GB", "en-AU", "fr-FR", "fr-CA", "ja-JP", "ru-RU", "es-US", "es-ES", "pt-BR"]
)
_EXPERIMENTAL = frozenset(
    "da-DK de-DE en-AU en-GB en-IN en-US es-ES es-US fi-FI fr-CA fr-FR hi-IN ja-JP ko-KR"
    " mk-MK nl-NL no-NO pl-PL pt-BR pt-PT ro-RO ru-RU th-TH tr-TR uk-UA vi-VN".split()
)
# `default` and Google STT V2 models: Google's V2 language tags (cloud.google.com/
# speech-to-text/v2/docs/speech-to-text-supported-languages), Mandarin as cmn-Hans-CN.
_GOOGLE_V2 = frozenset(
    "cmn-Hans-CN cmn-Hant-TW yue-Hant-HK en-US en-GB en-AU en-IN fr-FR de-DE es-ES es-US"
    " ja-JP ko-KR pt-BR".split()
)
# `numbers_and_commands` and Deepgram models: nova-2's codes
# (developers.deepgram.com/docs/models-languages-overview), Mandarin as zh-CN.
_DEEPGRAM = frozenset(
    "zh zh-CN zh-Hans zh-TW zh-Hant en en-US en-GB en-AU en-IN fr fr-CA de es es-419 ja ko"
    " pt-BR".split()
)

LANGUAGES: Mapping[str, frozenset[str]] = {
    "default": _GOOGLE_V2,
    "phone_call": _PHONE_CALL,
    "experimental_conversations": _EXPERIMENTAL,
    "experimental_utterances": _EXPERIMENTAL,
    "numbers_and_commands": _DEEPGRAM,
    "googlev2_long": _GOOGLE_V2,
    "googlev2_short": _GOOGLE_V2,
    "googlev2_telephony": _GOOGLE_V2,
    "googlev2_telephony_short": _GOOGLE_V2,
    "deepgram_nova-2": _DEEPGRAM,
    "deepgram_nova-3": _DEEPGRAM,
}
# With no speechModel Twilio picks a provider, and maps the language to it.
_ANY = _GOOGLE_V2 | _DEEPGRAM


@dataclass(frozen=True)
class Problem:
    code: int
    message: str
    fails: bool  # the Gather fails (an error); otherwise Twilio only warns


def problems(attributes: Mapping[str, str]) -> list[Problem]:
    """What Twilio would notify about a speech Gather with these attributes."""
    model = attributes.get("speechModel")
    language = attributes.get("language", "en-US")
    found: list[Problem] = []
    if model is not None and model not in LANGUAGES:
        found.append(Problem(13334, f"Gather: invalid speechModel {model!r}", fails=True))
        return found
    if language not in (LANGUAGES[model] if model else _ANY):
        why = f"Gather: language {language!r} is not supported by model {model or 'default'!r}"
        found.append(Problem(13331, why, fails=True))
    if model is not None and attributes.get("speechTimeout", "").strip() == "auto":
        why = f'Gather: speechTimeout "auto" cannot be used with speechModel {model!r}'
        found.append(Problem(13335, why, fails=False))
    return found
