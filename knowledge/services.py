"""Writes of the knowledge base: entries (their search vector kept with them), the on/off switch,
and the decision for one customer question: answer it, or leave it to a person."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.db import transaction
from django.db.models import F, Func, TextField, Value
from django.utils import timezone

from knowledge.errors import FaqEntryInvalid
from knowledge.languages import search_config_for
from knowledge.models import FaqEntry, KnowledgeAnswer, KnowledgeSettings
from knowledge.providers import Candidate, answer_provider
from knowledge.selectors import faq_candidates, knowledge_enabled
from messaging.models import Message

logger = logging.getLogger(__name__)

# Meta's limit on a text message's body: an answer must fit in one message.
ANSWER_MAX_CHARS = 4096
VARIANTS_MAX = 20
TAGS_MAX = 20
_LANGUAGE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,4})?$")


def _clean(
    *, question: str, variants: list[str], answer: str, language: str, tags: list[str]
) -> dict[str, Any]:
    question, answer, language = question.strip(), answer.strip(), language.strip()
    variants = list(dict.fromkeys(v.strip() for v in variants if v.strip()))
    tags = list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
    problems = []
    if not question:
        problems.append("The question is empty.")
    elif len(question) > 300:
        problems.append("The question is longer than 300 characters.")
    if not answer:
        problems.append("The answer is empty.")
    elif len(answer) > ANSWER_MAX_CHARS:
        problems.append(f"The answer is longer than {ANSWER_MAX_CHARS} characters (one WhatsApp message).")
    if len(variants) > VARIANTS_MAX or any(len(v) > 300 for v in variants):
        problems.append(f"At most {VARIANTS_MAX} variants of at most 300 characters each.")
    if len(tags) > TAGS_MAX or any(len(t) > 50 for t in tags):
        problems.append(f"At most {TAGS_MAX} tags of at most 50 characters each.")
    if not _LANGUAGE.match(language):
        problems.append(f"'{language}' is not a language code such as en, es or pt_BR.")
    if problems:
        raise FaqEntryInvalid(" ".join(problems), details={"problems": problems})
    return {"question": question, "variants": variants, "answer": answer, "language": language, "tags": tags}


def _joined(array_field: str) -> Func:
    return Func(F(array_field), Value(" "), function="array_to_string", output_field=TextField())


def _search_vector_refresh(entry: FaqEntry) -> None:
    """One UPDATE that rebuilds the entry's search vector in its language's configuration."""
    config = F("search_config")
    FaqEntry.objects.filter(pk=entry.pk).update(
        search_vector=(
            SearchVector("question", config=config, weight="A")
            + SearchVector(_joined("variants"), config=config, weight="A")
            + SearchVector(_joined("tags"), config=config, weight="B")
            + SearchVector("answer", config=config, weight="D")
        )
    )


@transaction.atomic
def faq_entry_create(
    *,
    question: str,
    answer: str,
    variants: list[str] | None = None,
    language: str = "en",
    tags: list[str] | None = None,
    is_active: bool = True,
) -> FaqEntry:
    fields = _clean(
        question=question, variants=variants or [], answer=answer, language=language, tags=tags or []
    )
    entry = FaqEntry.objects.create(
        **fields, is_active=is_active, search_config=search_config_for(fields["language"])
    )
    _search_vector_refresh(entry)
    return entry


@transaction.atomic
def faq_entry_update(*, entry: FaqEntry, **changes: Any) -> FaqEntry:
    """Change any of question, variants, answer, language, tags, is_active (the others are kept)."""
    current = {
        "question": entry.question,
        "variants": entry.variants,
        "answer": entry.answer,
        "language": entry.language,
        "tags": entry.tags,
    }
    fields = _clean(**{**current, **{key: value for key, value in changes.items() if key in current}})
    for name, value in fields.items():
        setattr(entry, name, value)
    if "is_active" in changes:
        entry.is_active = bool(changes["is_active"])
    entry.search_config = search_config_for(entry.language)
    entry.updated_at = timezone.now()
    entry.save()
    _search_vector_refresh(entry)
    return entry


def faq_entry_delete(*, entry: FaqEntry) -> None:
    entry.delete()


def knowledge_settings_update(*, enabled: bool) -> KnowledgeSettings:
    settings_row, _ = KnowledgeSettings.objects.update_or_create(
        pk=1, defaults={"enabled": enabled, "updated_at": timezone.now()}
    )
    return settings_row


@dataclass(frozen=True)
class KnowledgeReply:
    """The knowledge base's verdict on a question: `answer` to send, or None to hand it to a person."""

    answer: str | None
    score: float
    entry_id: int | None
    source: str


def knowledge_match(*, text: str) -> tuple[Candidate | None, list[Candidate]]:
    """The candidate confident enough to answer `text` (None when none is), and the closest entries."""
    candidates = faq_candidates(text=text)
    best = candidates[0] if candidates else None
    if best is not None and best.score >= settings.KNOWLEDGE_MATCH_THRESHOLD:
        return best, candidates
    return None, candidates


def knowledge_reply_for(
    *, message: Message, text: str, now: datetime | None = None, hand_off: bool = True
) -> KnowledgeReply | None:
    """What to do with a customer's text that no keyword or workflow took; None while the knowledge
    base is off. Logs the verdict (`KnowledgeAnswer`) in the caller's transaction.

    The search answers when its best score reaches `KNOWLEDGE_MATCH_THRESHOLD`; below it a
    configured language-model provider may answer; otherwise the verdict is a person, or, with
    `hand_off=False` (the bot has answered the message otherwise), None and nothing logged.
    """
    if not knowledge_enabled():
        return None
    match, candidates = knowledge_match(text=text)
    best_score = candidates[0].score if candidates else 0.0
    if match is not None:
        reply = KnowledgeReply(match.answer, match.score, match.entry_id, KnowledgeAnswer.Source.SEARCH)
    else:
        reply = _provider_reply(
            text=text, language=message.contact.language, candidates=candidates, best_score=best_score
        )
    if reply.answer is None and not hand_off:
        return None
    KnowledgeAnswer.objects.create(
        inbound_message=message,
        contact_id=message.contact_id,
        question=text[:1000],
        entry_id=reply.entry_id,
        score=reply.score,
        source=reply.source,
        created_at=now or timezone.now(),
        outcome=KnowledgeAnswer.Outcome.ANSWERED if reply.answer else KnowledgeAnswer.Outcome.HANDED_OFF,
    )
    return reply


def _provider_reply(
    *, text: str, language: str, candidates: list[Candidate], best_score: float
) -> KnowledgeReply:
    nobody = KnowledgeReply(
        None, best_score, candidates[0].entry_id if candidates else None, KnowledgeAnswer.Source.NONE
    )
    provider = answer_provider()
    if provider is None:
        return nobody
    try:
        answer = provider.answer(question=text, language=language, candidates=candidates)
    except Exception:
        logger.exception("The knowledge answer provider failed; the question goes to a person.")
        return nobody
    body = (answer.text if answer else "").strip()[:ANSWER_MAX_CHARS]
    if not body:
        return nobody
    known = {candidate.entry_id for candidate in candidates}
    entry_id = answer.entry_id if answer and answer.entry_id in known else None
    return KnowledgeReply(body, best_score, entry_id, KnowledgeAnswer.Source.PROVIDER)
