"""The processor registry and the values processors exchange with flows_builder.responses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from flows_builder.models import FlowResponse
from flows_builder.registry import Registry


@dataclass(frozen=True)
class ProcessedRecord:
    """What a processor created: stored on the response as record type and id."""

    record_type: str
    record_id: int

    @classmethod
    def of(cls, record: models.Model) -> ProcessedRecord:
        return cls(record_type=record._meta.label_lower, record_id=int(record.pk))


class ResponseInvalid(Exception):
    """The response's answers break the record's rules; `errors` are `{field, message}` items."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        summary = "; ".join(f"{error['field']}: {error['message']}" for error in errors[:5])
        super().__init__(f"{len(errors)} invalid field(s): {summary}")


FlowProcessor = Callable[[FlowResponse], ProcessedRecord]

FLOW_PROCESSORS: Registry[FlowProcessor] = Registry("response processor")


def flow_processor(flow_name: str) -> Callable[[FlowProcessor], FlowProcessor]:
    """Register the processor of the flow named `flow_name` (one per flow; a second one fails)."""
    return FLOW_PROCESSORS.register(flow_name)
