"""The channels an incident is told on, as the workspace's AlertSettings choose.

E-mail goes to the workspace's active owners and admins (team roles) and the extra addresses,
after the commit (a rolled-back change tells nobody). The outbound webhook event is written in
the incident's transaction (integrations' outbox), so it commits with it. The console notice is
the open incident itself, shown while it lasts (alerts.selectors.incidents_noticed).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from alerts.models import AlertSettings, Incident
from integrations.event_types import EventType
from integrations.services import event_emit
from team.models import Membership
from team.roles import Role

# The roles told by e-mail: those that may change the workspace's setup.
ALERTED_ROLES = (Role.OWNER, Role.ADMIN)


def alert_recipients(*, alert_settings: AlertSettings) -> list[str]:
    """The e-mail addresses of the active owners and admins, and the extra addresses."""
    members = Membership.objects.filter(role__in=ALERTED_ROLES, user__is_active=True)
    addresses = {email for email in members.values_list("user__email", flat=True) if email}
    addresses.update(alert_settings.email_extra_addresses or [])
    return sorted(addresses)


def incident_data(incident: Incident) -> dict[str, Any]:
    """An incident as the API and the webhook events show it."""
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "subject_key": incident.subject_key,
        "subject_label": incident.subject_label,
        "account_id": incident.account_id,
        "summary": incident.summary,
        "details": incident.details,
        "opened_at": incident.opened_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
    }


def _mail(incident: Incident, *, resolved: bool) -> tuple[str, str]:
    if resolved:
        subject = f"Resolved: {incident.get_kind_display()}, {incident.subject_label}"
        body = (
            f"This is over: {incident.summary}\n\n"
            f"Opened {incident.opened_at:%Y-%m-%d %H:%M} UTC, resolved "
            f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC.\n"
        )
    else:
        subject = f"Alert: {incident.get_kind_display()}, {incident.subject_label}"
        body = f"{incident.summary}\n\nFound {incident.opened_at:%Y-%m-%d %H:%M} UTC.\n"
    return subject, body + "\nYou get this because of your workspace's alert settings.\n"


def incident_notify(*, incident: Incident, resolved: bool, alert_settings: AlertSettings) -> None:
    """Tell the chosen channels that `incident` opened (or, `resolved`, that it is over). Call once
    per transition, inside its transaction."""
    if alert_settings.webhook_enabled:
        event_emit(
            type=EventType.ALERT_RESOLVED if resolved else EventType.ALERT_OPENED,
            data={"incident": incident_data(incident)},
        )
    if alert_settings.email_enabled:
        recipients = alert_recipients(alert_settings=alert_settings)
        if recipients:
            subject, body = _mail(incident, resolved=resolved)
            transaction.on_commit(
                lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True)
            )
