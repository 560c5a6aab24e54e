"""The words every part of the flow file is written in: languages, keys, texts."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
Text = dict[Language, Annotated[str, Field(min_length=1)]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Spoken(Strict):
    """Words a caller may say instead of pressing the key, per language."""

    zh: list[str] = []
    en: list[str] = []

    def words(self, language: Language) -> list[str]:
        return list(self.zh if language == "zh" else self.en)
