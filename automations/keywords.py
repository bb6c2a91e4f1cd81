"""Keyword matching: case- and accent-insensitive, on whole words or the whole message.

Pure functions. Text is compared in a normal form: accents removed (NFKD without combining
marks), case folded, every run of non-word characters turned into one space. So "Café!"
and "cafe" are the same, and "hi" is a whole word of "Hi there" but not of "this".

Modes: `exact` (the whole message), `contains` (the keyword's words appear together, as whole
words), `starts_with` (the message begins with the keyword's words), `regex` (a search over the
normal form; write patterns without accents and in lower case).

Several templates matching one message are ranked by `match_rank`: higher priority first, then
the more specific mode (exact, starts_with, contains, regex), then the longer keyword, then the
template created first. The order is total, so the same message always picks the same menu.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

EXACT, CONTAINS, STARTS_WITH, REGEX = "exact", "contains", "starts_with", "regex"
MATCH_MODES = (EXACT, CONTAINS, STARTS_WITH, REGEX)
# Lower is more specific: the tie-break after priority.
MODE_SPECIFICITY = {EXACT: 0, STARTS_WITH: 1, CONTAINS: 2, REGEX: 3}

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Accents removed and case folded, punctuation kept (what regexes search)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def normalise(text: str) -> str:
    """The comparable form: folded, words separated by single spaces, no punctuation."""
    return _NON_WORD.sub(" ", fold(text)).strip()


def words(text: str) -> tuple[str, ...]:
    return tuple(normalise(text).split())


@lru_cache(maxsize=512)
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be used, or None."""
    try:
        compiled(pattern)
    except re.error as error:
        return f"not a valid regular expression: {error}"
    return None


def keyword_matches(text: str, keyword: str, mode: str) -> bool:
    """True when `text` (a customer's message) matches `keyword` under `mode`."""
    if mode == REGEX:
        return compiled(keyword).search(fold(text)) is not None
    wanted = words(keyword)
    if not wanted:
        return False
    said = words(text)
    if mode == EXACT:
        return said == wanted
    if mode == STARTS_WITH:
        return said[: len(wanted)] == wanted
    size = len(wanted)
    return any(said[index : index + size] == wanted for index in range(len(said) - size + 1))


@dataclass(frozen=True)
class Candidate:
    """What the matcher needs of a template (kept free of the ORM so it stays a pure function)."""

    key: object
    keywords: Sequence[str]
    mode: str
    priority: int
    created_order: int


@dataclass(frozen=True)
class KeywordMatch:
    key: object
    keyword: str
    mode: str
    priority: int


def match_rank(candidate: Candidate, keyword: str) -> tuple[int, int, int, int]:
    """Sort key: smaller is better."""
    return (-candidate.priority, MODE_SPECIFICITY[candidate.mode], -len(normalise(keyword)),
            candidate.created_order)


def best_match(text: str, candidates: Iterable[Candidate]) -> KeywordMatch | None:
    """The best-ranked candidate with a keyword matching `text`, or None."""
    best: tuple[tuple[int, int, int, int], KeywordMatch] | None = None
    for candidate in candidates:
        for keyword in candidate.keywords:
            if not keyword_matches(text, keyword, candidate.mode):
                continue
            rank = match_rank(candidate, keyword)
            if best is None or rank < best[0]:
                best = (rank, KeywordMatch(candidate.key, keyword, candidate.mode, candidate.priority))
    return best[1] if best else None
