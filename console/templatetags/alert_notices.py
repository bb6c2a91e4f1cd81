"""`{% alert_notices %}`: the workspace's open incidents as a notice, for the roles that see accounts
(nothing when the workspace turned console notices off)."""

from __future__ import annotations

from typing import Any

from django import template

from alerts.selectors import incidents_noticed
from team.roles import Area

register = template.Library()


@register.inclusion_tag("console/alerts/_notices.html", takes_context=True)
def alert_notices(context: template.Context) -> dict[str, Any]:
    if Area.ACCOUNTS.value not in (context.get("console_areas") or ()):
        return {"shown": False}
    incidents = incidents_noticed()
    return {"shown": incidents is not None, "incidents": incidents or []}
