"""The hook to an external language model: off unless `KNOWLEDGE_ANSWER_PROVIDER` names a class.

The knowledge base never needs one. When the search finds no answer above the threshold and a
provider is configured, the provider is shown the customer's text and the closest entries and may
answer; it returns None (or raises) to leave the conversation to a person. It runs inside the
automation engine's transaction, holding the conversation's lock: a provider must bound its own
time (a short HTTP timeout) and keep its credentials in its own settings.

    class MyProvider:
        def answer(self, *, question, language, candidates): ...

The class path is the one string-named import here: a plug-in chosen by the deployment, like
Django's EMAIL_BACKEND, not another app of ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Candidate:
    """An FAQ entry close to the question, with its search score (0 to 1)."""

    entry_id: int
    question: str
    answer: str
    language: str
    score: float


@dataclass(frozen=True)
class ProviderAnswer:
    text: str
    entry_id: int | None = None  # the entry the answer rests on, when there is one


class AnswerProvider(Protocol):
    def answer(
        self, *, question: str, language: str, candidates: Sequence[Candidate]
    ) -> ProviderAnswer | None: ...


def answer_provider() -> AnswerProvider | None:
    """The configured provider, or None (the default)."""
    path = settings.KNOWLEDGE_ANSWER_PROVIDER
    if not path:
        return None
    provider: AnswerProvider = import_string(path)()
    return provider
