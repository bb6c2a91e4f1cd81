"""Input and output of the knowledge-base API."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema


class FaqEntryIn(Schema):
    question: str = Field(max_length=300, description="The question as customers usually ask it.")
    variants: list[str] = Field(default_factory=list, max_length=20, description="Other ways to ask it.")
    answer: str = Field(max_length=4096, description="Sent as it is, as one WhatsApp text message.")
    language: str = Field(
        "en", max_length=16, description="Language code (en, es, pt_BR...): picks the stemming."
    )
    tags: list[str] = Field(default_factory=list, max_length=20)
    is_active: bool = True


class FaqEntryPatch(Schema):
    question: str | None = Field(None, max_length=300)
    variants: list[str] | None = Field(None, max_length=20)
    answer: str | None = Field(None, max_length=4096)
    language: str | None = Field(None, max_length=16)
    tags: list[str] | None = Field(None, max_length=20)
    is_active: bool | None = None


class FaqEntryOut(Schema):
    id: int
    question: str
    variants: list[str]
    answer: str
    language: str
    tags: list[str]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class KnowledgeTryIn(Schema):
    text: str = Field(min_length=1, max_length=1000, description="A question as a customer would write it.")


class CandidateOut(Schema):
    entry_id: int
    question: str
    score: float


class KnowledgeTryOut(Schema):
    answered: bool = Field(description="Whether this text would be answered; otherwise it goes to a person.")
    entry_id: int | None
    question: str | None = Field(description="The matched entry's question.")
    answer: str | None
    score: float = Field(description="The best entry's score, 0 to 1.")
    threshold: float
    candidates: list[CandidateOut] = Field(description="The closest entries, best first.")


class KnowledgeSettingsIn(Schema):
    enabled: bool


class KnowledgeSettingsOut(Schema):
    enabled: bool
    threshold: float
    provider_configured: bool


class KnowledgeDayOut(Schema):
    day: date
    answered: int
    handed_off: int
