"""What a caller said, matched against the words a menu knows. Pure: text in, text out.

Speech is cut into units: a word of letters or digits (English), or one Chinese
character, since Chinese writes no spaces. A menu phrase matches only as whole units
in a row, so "yes" is not in "yesterday" nor in "my eyes", and 冻结 is in 先不要冻结 but
negated there: a negation (不要, don't) just before a phrase, within its clause, undoes
it, unless the negation is itself part of a phrase the menu knows (没到账, did not make).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

# A clause ends at punctuation; Twilio punctuates what it transcribes.
_CLAUSES = re.compile(r"[,.;:!?，。；：！？、…]+")
# Words of letters and digits (an apostrophe inside: don't), or one CJK character.
_UNITS = re.compile(r"[^\W_]+(?:'[^\W_]+)*", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_APART = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\u3400-\u9fff\uf900-\ufaff]+")
# How many units may stand between a negation and the phrase it undoes: "don't want
# to freeze" (2 words), "不想现在冻结" (3 characters).
NEGATION_REACH = {"word": 3, "cjk": 4}

Units = tuple[str, ...]


def units(text: str) -> Units:
    """Lower-case words, and Chinese characters one by one."""
    found: list[str] = []
    for token in _UNITS.findall(text.casefold().replace("\u2019", "'")):
        # Chinese runs split into characters; letters or digits among them stay whole.
        found += _CJK_APART.findall(token) if _CJK.search(token) else [token]
    return tuple(found)


def clauses(text: str) -> list[Units]:
    return [units(part) for part in _CLAUSES.split(text) if part.strip()]


def spans(clause: Units, phrase: Units) -> list[tuple[int, int]]:
    """Where ``phrase`` stands in ``clause``, as whole units."""
    size = len(phrase)
    if not size:
        return []
    return [
        (start, start + size)
        for start in range(len(clause) - size + 1)
        if clause[start : start + size] == phrase
    ]


def _reach(unit: str) -> int:
    return NEGATION_REACH["cjk" if _CJK.match(unit) else "word"]


def negated(clause: Units, start: int, negations: Iterable[Units], known: Iterable[Units]) -> bool:
    """Whether a negation ends just before ``start`` (within its reach) and is not part
    of one of the ``known`` phrases."""
    protected = [span for phrase in known for span in spans(clause, phrase)]
    for negation in negations:
        for begin, end in spans(clause, negation):
            if end > start or start - end > _reach(clause[end - 1]):
                continue
            if any(a <= begin and end <= b for a, b in protected):
                continue  # 没 in 没到账, not in "did not make": part of a known phrase
            return True
    return False


def said(text: str, phrase: str, negations: Sequence[str], known: Sequence[str] = ()) -> bool:
    """Whether the caller said ``phrase`` and did not negate it."""
    wanted = units(phrase)
    negation_units = [units(word) for word in negations]
    known_units = [units(word) for word in (*known, phrase)]
    for clause in clauses(text):
        covers = [span for known_phrase in known_units for span in spans(clause, known_phrase)]
        for start, end in spans(clause, wanted):
            # 冻结 inside 立即冻结: a negation before the longer phrase undoes both.
            first = min(a for a, b in covers if a <= start and end <= b)
            if not negated(clause, first, negation_units, known_units):
                return True
    return False


def spoken_number(
    text: str, numbers: Mapping[str, Sequence[str]], fillers: Sequence[str]
) -> str | None:
    """The option number the caller said, when that is all they said ("two", "press 2",
    "number two", "按二", "第二个"); a number inside a sentence ("I paid two hundred")
    is no choice."""
    filler_units = {unit for word in fillers for unit in units(word)}
    left = [unit for unit in units(text) if unit not in filler_units]
    if len(left) != 1:
        return None
    (word,) = left
    if len(word) == 1 and "0" <= word <= "9":  # ASCII digits only: not ¹ or ２
        return word
    for key, words in numbers.items():
        if any(units(candidate) == (word,) for candidate in words):
            return key
    return None
