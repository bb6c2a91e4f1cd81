"""Platform API (public host): every tenant's WhatsApp accounts with their health, unhealthy first,
as the health checks last stored them in the public summary (no tenant schema is entered)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Router

from analytics import selectors
from analytics.schemas import PlatformAccountHealthOut
from platform_core.api import paginated

platform_router = Router(tags=["platform: account health"])


@platform_router.get("/accounts/health", response=list[PlatformAccountHealthOut])
@paginated
def accounts_health(
    request: HttpRequest, status: Literal["draft", "active", "unhealthy", "suspended"] | None = None
):
    return selectors.platform_accounts_health_summarised(status=status)
