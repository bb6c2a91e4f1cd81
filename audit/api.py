"""Tenant API of the audit log: the workspace's recorded changes, newest first, paged."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router

from audit.models import AuditEntry
from audit.schemas import AuditEntryOut
from audit.selectors import AuditFilters, audit_entries
from platform_core.api import RowId, paginated

router = Router(tags=["audit log"])


@router.get("/audit-log", response=list[AuditEntryOut])
@paginated
def audit_log(
    request: HttpRequest,
    actor_type: AuditEntry.ActorType | None = None,
    actor_id: RowId | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    action: AuditEntry.Action | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    """Who changed what, when and from where: every change made through the API, the console or the
    admin. `since` is inclusive, `until` exclusive; secret values are never shown."""
    return audit_entries(
        AuditFilters(
            actor_type=actor_type or "",
            actor_id=actor_id,
            object_type=object_type or "",
            object_id=object_id or "",
            action=action or "",
            since=since,
            until=until,
        )
    )
