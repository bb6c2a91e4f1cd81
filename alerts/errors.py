"""Domain errors of the alerts: stable codes, one HTTP status each (see platform_core.api)."""

from __future__ import annotations

from platform_core.errors import DomainError


class AlertSettingsInvalid(DomainError):
    code = "invalid_alert_settings"
    status = 422
