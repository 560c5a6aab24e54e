"""How menus listen to speech: Twilio's recognition settings, the confidence below which
Hotline asks again, and the words around the menus' own (negations, spoken numbers)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from flowfile.vocabulary import Key, Language, Spoken, Strict


class NumberWords(Strict):
    """Spoken option numbers per language: ``"2": [二, 两]`` (digits need no entry)."""

    zh: dict[Key, list[str]] = {}
    en: dict[Key, list[str]] = {}

    def words(self, language: Language) -> dict[str, list[str]]:
        return dict(self.zh if language == "zh" else self.en)


class Speech(Strict):
    # <Gather speechTimeout>: seconds of quiet that end an utterance. A whole number:
    # Twilio warns (13335) against "auto" when speechModel is set, as it is per language.
    timeout: Annotated[int, Field(ge=1, le=10)] = 2
    # Twilio's Confidence (0-1) below this: "sorry, I didn't catch that", and nothing done.
    min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.5
    # Words that undo a menu word said just after them ("don't freeze", "先不要冻结").
    negations: Spoken = Spoken()
    # Option numbers said instead of pressed, and the words said around them.
    numbers: NumberWords = NumberWords()
    number_fillers: Spoken = Spoken()
