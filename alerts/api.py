"""Tenant API of the alerts: `/api/v1/alerts/incidents` and `/api/v1/alerts/settings`."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Router

from alerts import selectors, services
from alerts.schemas import AlertSettingsIn, AlertSettingsOut, IncidentOut
from platform_core.api import paginated

router = Router(tags=["Alerts"])

IncidentKind = Literal[
    "account_unhealthy",
    "template_paused",
    "template_rejected",
    "quality_dropped",
    "webhook_backlog",
    "dead_letters",
]


@router.get("/alerts/incidents", response=list[IncidentOut])
@paginated
def incident_list(
    request: HttpRequest,
    status: Literal["open", "resolved"] | None = None,
    kind: IncidentKind | None = None,
):
    """This workspace's incidents, newest first; filter open or resolved ones, and by kind."""
    return selectors.incident_list(status=status, kind=kind)


@router.get("/alerts/settings", response=AlertSettingsOut)
def alert_settings_get(request: HttpRequest):
    return selectors.alert_settings_get()


@router.put("/alerts/settings", response=AlertSettingsOut)
def alert_settings_put(request: HttpRequest, payload: AlertSettingsIn):
    """Choose the channels incidents are told on."""
    return services.alert_settings_update(**payload.model_dump())
