"""Writes of the alerts: incidents opened and resolved against the conditions found, the settings.

Runs in the tenant's schema. `incidents_reconcile` is the one place an incident changes: a new
condition opens an incident and notifies once; the same condition found again changes only its
details; a condition no longer found resolves its incident and sends the recovery notice once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.conditions import Condition, account_conditions, webhook_conditions
from alerts.errors import AlertSettingsInvalid
from alerts.models import AlertSettings, Incident
from alerts.notify import incident_notify
from alerts.selectors import alert_settings_get
from tenants.work_pending import WorkKind, work_announce
from waba.models import WhatsAppAccount

Kind = Incident.Kind
ACCOUNT_KINDS = (Kind.ACCOUNT_UNHEALTHY, Kind.TEMPLATE_PAUSED, Kind.TEMPLATE_REJECTED, Kind.QUALITY_DROPPED)
WEBHOOK_KINDS = (Kind.WEBHOOK_BACKLOG, Kind.DEAD_LETTERS)
MAX_EXTRA_ADDRESSES = 10


@transaction.atomic
def incidents_reconcile(
    *, found: Iterable[Condition], scope: Q, now: datetime | None = None
) -> tuple[list[Incident], list[Incident]]:
    """Make the open incidents within `scope` match the conditions `found`. Returns (opened, resolved).

    Idempotent. The open incidents are read under row locks, and the partial unique constraint
    refuses a second open incident for a subject, so two runs at once open and notify one.
    """
    now = now or timezone.now()
    alert_settings = alert_settings_get()
    conditions = {condition.key: condition for condition in found}
    open_incidents = {
        (incident.kind, incident.subject_key): incident
        for incident in Incident.objects.select_for_update().filter(scope, resolved_at__isnull=True)
    }
    opened, resolved = [], []
    for key, condition in conditions.items():
        incident = open_incidents.get(key)
        if incident is not None:
            if incident.details != condition.details or incident.summary != condition.summary[:500]:
                incident.details, incident.summary = condition.details, condition.summary[:500]
                incident.save(update_fields=["details", "summary"])
            continue
        try:
            with transaction.atomic():
                incident = Incident.objects.create(
                    kind=condition.kind,
                    subject_key=condition.subject_key,
                    subject_label=condition.subject_label[:200],
                    account_id=condition.account_id,
                    summary=condition.summary[:500],
                    details=condition.details,
                    opened_at=now,
                    last_notified_at=now,
                )
        except IntegrityError:  # opened meanwhile by a run that saw it first: that run tells
            continue
        incident_notify(incident=incident, resolved=False, alert_settings=alert_settings)
        opened.append(incident)
    for key, incident in open_incidents.items():
        if key in conditions:
            continue
        incident.resolved_at = incident.last_notified_at = now
        incident.save(update_fields=["resolved_at", "last_notified_at"])
        incident_notify(incident=incident, resolved=True, alert_settings=alert_settings)
        resolved.append(incident)
    if opened:
        work_announce(kind=WorkKind.ALERTS)  # the sweep comes back until they resolve (alerts.sweep)
    return opened, resolved


def account_incidents_reconcile(
    *, account_id: int, now: datetime | None = None
) -> tuple[list[Incident], list[Incident]]:
    """Reconcile one WhatsApp account's incidents with its state now (a deleted account's resolve)."""
    account = WhatsAppAccount.objects.filter(pk=account_id).first()
    found = account_conditions(account=account) if account is not None else []
    return incidents_reconcile(found=found, scope=Q(account_id=account_id, kind__in=ACCOUNT_KINDS), now=now)


def tenant_incidents_reconcile(*, now: datetime | None = None) -> tuple[int, int]:
    """Every account of the workspace and its webhook figures: the schedule's sweep for conditions
    no event announces. Returns how many incidents opened and resolved."""
    now = now or timezone.now()
    opened = resolved = 0
    account_ids = set(WhatsAppAccount.objects.values_list("pk", flat=True))
    # An account deleted while an incident of its was open: its incidents resolve.
    for account_id in Incident.objects.filter(resolved_at__isnull=True).values_list("account_id", flat=True):
        if account_id is not None:
            account_ids.add(account_id)
    for account_id in sorted(account_ids):
        new, over = account_incidents_reconcile(account_id=account_id, now=now)
        opened, resolved = opened + len(new), resolved + len(over)
    new, over = incidents_reconcile(
        found=webhook_conditions(now=now), scope=Q(kind__in=WEBHOOK_KINDS), now=now
    )
    return opened + len(new), resolved + len(over)


def alert_settings_update(
    *,
    email_enabled: bool | None = None,
    email_extra_addresses: Iterable[str] | None = None,
    webhook_enabled: bool | None = None,
    console_enabled: bool | None = None,
) -> AlertSettings:
    """Change what is given. Extra addresses are checked and kept once each, lower-cased."""
    alert_settings = alert_settings_get()
    if email_extra_addresses is not None:
        alert_settings.email_extra_addresses = _addresses_checked(email_extra_addresses)
    for name, value in (
        ("email_enabled", email_enabled),
        ("webhook_enabled", webhook_enabled),
        ("console_enabled", console_enabled),
    ):
        if value is not None:
            setattr(alert_settings, name, value)
    alert_settings.save()
    return alert_settings


def _addresses_checked(addresses: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(address.strip().lower() for address in addresses if address.strip()))
    bad = []
    for address in chosen:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise AlertSettingsInvalid(
            f"Not an e-mail address: {', '.join(bad)}.",
            details=[{"field": "email_extra_addresses", "message": f"invalid: {address}"} for address in bad],
        )
    if len(chosen) > MAX_EXTRA_ADDRESSES:
        raise AlertSettingsInvalid(f"At most {MAX_EXTRA_ADDRESSES} extra addresses.")
    return chosen
