"""Reads of the alerts (tenant schema)."""

from __future__ import annotations

from django.db.models import QuerySet

from alerts.models import AlertSettings, Incident

SETTINGS_ROW = 1
NOTICES_SHOWN = 20


def alert_settings_get() -> AlertSettings:
    """The workspace's settings (one row); the defaults, unsaved, until they are first changed."""
    return AlertSettings.objects.filter(pk=SETTINGS_ROW).first() or AlertSettings(pk=SETTINGS_ROW)


def incident_list(*, status: str | None = None, kind: str | None = None) -> QuerySet[Incident]:
    """Incidents newest first; `status` "open" or "resolved" narrows them."""
    incidents = Incident.objects.all()
    if status == "open":
        incidents = incidents.filter(resolved_at__isnull=True)
    elif status == "resolved":
        incidents = incidents.filter(resolved_at__isnull=False)
    if kind:
        incidents = incidents.filter(kind=kind)
    return incidents


def incidents_noticed() -> list[Incident] | None:
    """The open incidents the console shows as notices; None when the console channel is off."""
    if not alert_settings_get().console_enabled:
        return None
    return list(Incident.objects.filter(resolved_at__isnull=True)[:NOTICES_SHOWN])


def incidents_open_count() -> int:
    return Incident.objects.filter(resolved_at__isnull=True).count()
