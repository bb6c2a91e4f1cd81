"""Reads of the knowledge base: entries, the entries closest to a question, and answer counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from knowledge.errors import FaqEntryNotFound
from knowledge.models import FaqEntry, KnowledgeAnswer, KnowledgeSettings
from knowledge.providers import Candidate
from platform_core.batch_memo import batch_memo

# A candidate's score (0 to 1) adds three signals of how close the customer's text is to an entry:
# - trigram similarity to the question or its closest variant (pg_trgm: typos, word order);
# - coverage: the share of the text's words (stemmed, stop words dropped, in the entry's language)
#   found in the question, variants or tags: "are you open on sunday" covers half of an entry about
#   opening hours, "my card was charged twice" a third of one about paying by card;
# - ts_rank of all the text's words together (PostgreSQL's full-text rank, normalised to r / (r + 1)
#   and scaled so that a full match of a question's words weighs about 1).
TRIGRAM_WEIGHT = 0.5
COVERAGE_WEIGHT = 0.35
RANK_WEIGHT = 0.15
RANK_SCALE = 1.7

_CANDIDATES = f"""
    SELECT id, question, answer, language, score FROM (
        SELECT e.id, e.question, e.answer, e.language,
               {TRIGRAM_WEIGHT} * GREATEST(
                   similarity(lower(e.question), lower(%(text)s)),
                   COALESCE((SELECT max(similarity(lower(v), lower(%(text)s))) FROM unnest(e.variants) AS v), 0)
               )
               + {COVERAGE_WEIGHT} * COALESCE((
                   SELECT count(*) FILTER (
                       WHERE word = ANY(tsvector_to_array(ts_filter(e.search_vector, '{{a,b}}')))
                   )::float / NULLIF(count(*), 0)
                   FROM unnest(tsvector_to_array(to_tsvector(e.search_config::regconfig, %(text)s))) AS word
               ), 0)
               + {RANK_WEIGHT} * LEAST(1.0, {RANK_SCALE} * ts_rank(
                   e.search_vector, plainto_tsquery(e.search_config::regconfig, %(text)s), 32)) AS score
        FROM {FaqEntry._meta.db_table} AS e
        WHERE e.is_active
    ) AS scored
    ORDER BY score DESC, id
    LIMIT %(limit)s
"""


def faq_candidates(*, text: str, limit: int = 3) -> list[Candidate]:
    """The active entries closest to `text`, best first, each with its score (0 to 1).

    Each entry's words are read with its own language's configuration, so a Spanish and an English
    entry each stem the question their way. Runs in the current tenant's schema; pg_trgm lives in
    public, which is on every tenant's search path.
    """
    text = text.replace("\x00", "").strip()[:1000]
    if not text:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES, {"text": text, "limit": limit})
        rows = cursor.fetchall()
    return [
        Candidate(
            entry_id=row[0], question=row[1], answer=row[2], language=row[3], score=round(float(row[4]), 4)
        )
        for row in rows
    ]


def faq_entry_list(
    *,
    search: str | None = None,
    tag: str | None = None,
    language: str | None = None,
    is_active: bool | None = None,
) -> QuerySet[FaqEntry]:
    entries = FaqEntry.objects.all()
    if search:
        entries = entries.filter(Q(question__icontains=search) | Q(answer__icontains=search))
    if tag:
        entries = entries.filter(tags__contains=[tag])
    if language:
        entries = entries.filter(language=language)
    if is_active is not None:
        entries = entries.filter(is_active=is_active)
    return entries


def faq_entry_get(*, entry_id: int) -> FaqEntry:
    entry = FaqEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise FaqEntryNotFound(f"FAQ entry {entry_id} does not exist in this workspace.")
    return entry


def knowledge_settings_get() -> KnowledgeSettings:
    """The workspace's settings; an unsaved default (off) until they are first changed."""
    return KnowledgeSettings.objects.filter(pk=1).first() or KnowledgeSettings(pk=1)


def knowledge_enabled() -> bool:
    return batch_memo(
        ("knowledge.enabled",), lambda: KnowledgeSettings.objects.filter(pk=1, enabled=True).exists()
    )


@dataclass(frozen=True)
class KnowledgeDay:
    day: date
    answered: int
    handed_off: int


def knowledge_answer_counts(*, since: datetime, until: datetime) -> list[KnowledgeDay]:
    """Per day (UTC) from `since` to `until`: questions answered and handed to a person, oldest first,
    every day present (zeros included)."""
    rows = (
        KnowledgeAnswer.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            answered=Count("id", filter=Q(outcome=KnowledgeAnswer.Outcome.ANSWERED)),
            handed_off=Count("id", filter=Q(outcome=KnowledgeAnswer.Outcome.HANDED_OFF)),
        )
    )
    by_day = {row["day"]: KnowledgeDay(row["day"], row["answered"], row["handed_off"]) for row in rows}
    days: list[KnowledgeDay] = []
    day = since.date()
    while day <= (until - timedelta(microseconds=1)).date():
        days.append(by_day.get(day) or KnowledgeDay(day, 0, 0))
        day += timedelta(days=1)
    return days
