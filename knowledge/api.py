"""Tenant API of the knowledge base: FAQ entries, the on/off switch, a dry run of the matching, and
answers per day. Each endpoint parses, calls one service or selector, shapes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from knowledge import selectors, services
from knowledge.schemas import (
    FaqEntryIn,
    FaqEntryOut,
    FaqEntryPatch,
    KnowledgeDayOut,
    KnowledgeSettingsIn,
    KnowledgeSettingsOut,
    KnowledgeTryIn,
    KnowledgeTryOut,
)
from platform_core.api import paginated

router = Router(tags=["knowledge base"])


@router.get("/knowledge", response=list[FaqEntryOut])
@paginated
def faq_entry_list(
    request: HttpRequest,
    search: str | None = Query(None, max_length=200),
    tag: str | None = Query(None, max_length=50),
    language: str | None = Query(None, max_length=16),
    is_active: bool | None = None,
):
    return selectors.faq_entry_list(search=search, tag=tag, language=language, is_active=is_active)


@router.post("/knowledge", response={201: FaqEntryOut})
def faq_entry_create(request: HttpRequest, payload: FaqEntryIn):
    return Status(201, services.faq_entry_create(**payload.model_dump()))


@router.get("/knowledge/settings", response=KnowledgeSettingsOut)
def knowledge_settings_get(request: HttpRequest):
    return _settings_out(selectors.knowledge_settings_get().enabled)


@router.put("/knowledge/settings", response=KnowledgeSettingsOut)
def knowledge_settings_update(request: HttpRequest, payload: KnowledgeSettingsIn):
    """Turn answering from the knowledge base on or off for this workspace (off by default)."""
    return _settings_out(services.knowledge_settings_update(enabled=payload.enabled).enabled)


@router.get("/knowledge/answers-per-day", response=list[KnowledgeDayOut])
@paginated
def knowledge_answers_per_day(request: HttpRequest, days: int = Query(30, ge=1, le=366)):
    """Questions answered and handed to a person per day (UTC), the last `days` days, today included."""
    until = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return selectors.knowledge_answer_counts(since=until - timedelta(days=days), until=until)


@router.post("/knowledge/try", response=KnowledgeTryOut)
def knowledge_try(request: HttpRequest, payload: KnowledgeTryIn):
    """What the knowledge base would do with this text (the search only: no provider, nothing sent)."""
    match, candidates = services.knowledge_match(text=payload.text)
    return {
        "answered": match is not None,
        "entry_id": match.entry_id if match else None,
        "question": match.question if match else None,
        "answer": match.answer if match else None,
        "score": candidates[0].score if candidates else 0.0,
        "threshold": settings.KNOWLEDGE_MATCH_THRESHOLD,
        "candidates": candidates,
    }


@router.get("/knowledge/{int:entry_id}", response=FaqEntryOut)
def faq_entry_get(request: HttpRequest, entry_id: int):
    return selectors.faq_entry_get(entry_id=entry_id)


@router.patch("/knowledge/{int:entry_id}", response=FaqEntryOut)
def faq_entry_update(request: HttpRequest, entry_id: int, payload: FaqEntryPatch):
    entry = selectors.faq_entry_get(entry_id=entry_id)
    return services.faq_entry_update(entry=entry, **payload.model_dump(exclude_unset=True))


@router.delete("/knowledge/{int:entry_id}", response={204: None})
def faq_entry_delete(request: HttpRequest, entry_id: int):
    services.faq_entry_delete(entry=selectors.faq_entry_get(entry_id=entry_id))
    return Status(204, None)


def _settings_out(enabled: bool) -> dict[str, object]:
    return {
        "enabled": enabled,
        "threshold": settings.KNOWLEDGE_MATCH_THRESHOLD,
        "provider_configured": bool(settings.KNOWLEDGE_ANSWER_PROVIDER),
    }
