"""Keyword matching: case- and accent-insensitive, on whole words or the whole message.

Pure functions. Text is compared in a normal form: accents removed (NFKD without combining
marks), case folded, every run of non-word characters turned into one space. So "Café!"
and "cafe" are the same, and "hi" is a whole word of "Hi there" but not of "this".

Modes: `exact` (the whole message), `contains` (the keyword's words appear together, as whole
words), `starts_with` (the message begins with the keyword's words), `regex` (a search over the
folded text; write patterns without accents, case does not matter).

Regular expressions run on RE2 (google-re2), never on Python's backtracking `re`: matching takes
time linear in the text whatever the pattern, because it runs in web threads and in the webhook
worker on every inbound message. RE2 has no backreferences or lookaround (such patterns are
refused when a template is saved), and its `\\w`, `\\b` and `\\d` are ASCII; `\\pL` is a letter of
any script. Only the first TEXT_MESSAGE_MAX_CHARS characters of a message are looked at, the
most a WhatsApp text can hold.

Several templates matching one message are ranked by `match_rank`: higher priority first, then
the more specific mode (exact, starts_with, contains, regex), then the longer keyword, then the
template created first. The order is total, so the same message always picks the same menu.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import re2

from waba.meta import TEXT_MESSAGE_MAX_CHARS

logger = logging.getLogger(__name__)

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


class CompiledPattern(Protocol):
    def search(self, text: str) -> object | None: ...


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # a refused pattern is reported to the caller, not to stderr
    return options


_RE2_OPTIONS = _re2_options()


@lru_cache(maxsize=512)
def compiled(pattern: str) -> CompiledPattern:
    """The RE2 program of `pattern`; raises re2.error for a pattern RE2 cannot run."""
    return re2.compile(pattern, _RE2_OPTIONS)


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be used, or None."""
    try:
        compiled(pattern)
    except re2.error as error:
        reason = error.args[0] if error.args else ""
        reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        return (f"not a regular expression this platform can run ({reason}); backreferences and "
                "lookahead or lookbehind are not supported")
    return None


@dataclass(frozen=True)
class Said:
    """A customer's message in the forms the modes compare, computed once per message."""

    folded: str  # what regexes search
    words: tuple[str, ...]  # what the other modes compare


def said_of(text: str) -> Said:
    """The message's forms, from its first TEXT_MESSAGE_MAX_CHARS characters only."""
    folded = fold((text or "")[:TEXT_MESSAGE_MAX_CHARS])
    return Said(folded=folded, words=tuple(_NON_WORD.sub(" ", folded).split()))


def keyword_matches(text: str | Said, keyword: str, mode: str) -> bool:
    """True when `text` (a customer's message) matches `keyword` under `mode`."""
    said = text if isinstance(text, Said) else said_of(text)
    if mode == REGEX:
        try:
            program = compiled(keyword)
        except re2.error:
            logger.warning("Keyword pattern %r cannot be used (RE2 refuses it); it matches nothing.", keyword)
            return False
        return program.search(said.folded) is not None
    wanted = words(keyword)
    if not wanted:
        return False
    if mode == EXACT:
        return said.words == wanted
    if mode == STARTS_WITH:
        return said.words[: len(wanted)] == wanted
    size = len(wanted)
    return any(said.words[index : index + size] == wanted for index in range(len(said.words) - size + 1))


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
    said = said_of(text)
    best: tuple[tuple[int, int, int, int], KeywordMatch] | None = None
    for candidate in candidates:
        for keyword in candidate.keywords:
            if not keyword_matches(said, keyword, candidate.mode):
                continue
            rank = match_rank(candidate, keyword)
            if best is None or rank < best[0]:
                best = (rank, KeywordMatch(candidate.key, keyword, candidate.mode, candidate.priority))
    return best[1] if best else None
