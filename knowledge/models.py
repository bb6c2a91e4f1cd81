"""The knowledge base: a workspace's FAQ entries, whether the bot may answer from them, and the log
of what it answered (or handed to a person) for analytics."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone

from messaging.models import Contact, Message


class FaqEntry(models.Model):
    """A question the business answers the same way every time.

    `search_vector` is written by `knowledge.services` on every save (question and variants
    weighted A, tags B, the answer D) with the text search configuration of the entry's language
    (`search_config`), so matching never recomputes it.
    """

    question = models.CharField(max_length=300)
    variants = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    answer = models.TextField()
    language = models.CharField(max_length=16, default="en")
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    is_active = models.BooleanField(default=True)
    search_config = models.CharField(max_length=32, default="simple", editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"
        ordering = ["question", "id"]
        indexes = [GinIndex(fields=["search_vector"], name="knowledge_faq_search")]

    def __str__(self) -> str:
        return self.question


class KnowledgeSettings(models.Model):
    """One row per workspace: answering from the knowledge base is off until the business turns it on."""

    enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "knowledge settings"


class KnowledgeAnswer(models.Model):
    """One question the knowledge base was asked by a customer, and what became of it."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered"
        HANDED_OFF = "handed_off", "Handed to a person"

    class Source(models.TextChoices):
        SEARCH = "search", "Full-text and trigram search"
        PROVIDER = "provider", "Language-model provider"
        NONE = "none", "No confident answer"

    inbound_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="knowledge_answers"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="knowledge_answers"
    )
    question = models.CharField(max_length=1000)
    entry = models.ForeignKey(
        FaqEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    score = models.FloatField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
