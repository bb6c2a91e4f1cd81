"""Output of the audit log API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor_type: str
    actor_id: int
    actor_label: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    client_address: str | None
    request_id: str
