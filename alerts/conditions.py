"""What is wrong now, read from the state the lower apps keep: the conditions incidents follow.

Each function returns the conditions present at this moment for its scope; `services` opens an
incident for each new one and resolves the open incidents of that scope that are no longer found.
Reads only; runs in the tenant's schema (the webhook figures read the public tables too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from alerts.models import Incident
from waba import meta
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry

Kind = Incident.Kind

# Account states that stop or endanger sending.
UNHEALTHY_ACCOUNT_STATUSES = frozenset({WhatsAppAccount.Status.UNHEALTHY, WhatsAppAccount.Status.SUSPENDED})
DROPPED_QUALITY = frozenset({meta.QualityRating.YELLOW, meta.QualityRating.RED})
# Template statuses that stop a template from sending.
STOPPED_TEMPLATE_STATUSES = frozenset({meta.TemplateStatus.REJECTED, meta.TemplateStatus.PAUSED})
WEBHOOKS_SUBJECT = "webhooks"


@dataclass(frozen=True)
class Condition:
    kind: str
    subject_key: str
    subject_label: str
    summary: str
    account_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject_key)


def account_conditions(*, account: WhatsAppAccount) -> list[Condition]:
    """The account's own status, its numbers' quality, its templates' status and quality."""
    found: list[Condition] = []
    label = account.display_name or account.waba_id or f"Account {account.pk}"
    if account.status in UNHEALTHY_ACCOUNT_STATUSES:
        found.append(
            Condition(
                Kind.ACCOUNT_UNHEALTHY,
                f"account:{account.pk}",
                label,
                f"{label} is {account.status}: {account.status_reason or 'no reason given'}",
                account.pk,
                {"status": account.status, "reason": account.status_reason, "waba_id": account.waba_id},
            )
        )
    for number in PhoneNumber.objects.filter(account=account, quality_rating__in=DROPPED_QUALITY):
        number_label = number.display_phone_number or number.phone_number_id
        found.append(
            Condition(
                Kind.QUALITY_DROPPED,
                f"phone:{number.pk}",
                number_label,
                f"Number {number_label} has quality rating {number.quality_rating}.",
                account.pk,
                {"phone_number_id": number.phone_number_id, "quality_rating": number.quality_rating},
            )
        )
    templates = MessageTemplate.objects.filter(account=account).filter(
        Q(status__in=STOPPED_TEMPLATE_STATUSES)
        | Q(quality_score__in=DROPPED_QUALITY)
    )
    for template in templates:
        found.extend(_template_conditions(template, account.pk))
    return found


def _template_conditions(template: MessageTemplate, account_id: int) -> list[Condition]:
    label = f"{template.name} ({template.language})"
    details = {
        "template_id": template.pk,
        "meta_template_id": template.meta_template_id,
        "name": template.name,
        "language": template.language,
    }
    found = []
    reason = template.rejection_reason or "no reason given"
    if template.status == meta.TemplateStatus.REJECTED:
        found.append(
            Condition(
                Kind.TEMPLATE_REJECTED,
                f"template:{template.pk}",
                label,
                f"Template {label} was rejected: {reason}",
                account_id,
                {**details, "reason": template.rejection_reason},
            )
        )
    elif template.status == meta.TemplateStatus.PAUSED:
        found.append(
            Condition(
                Kind.TEMPLATE_PAUSED,
                f"template:{template.pk}",
                label,
                f"Template {label} was paused: {reason}",
                account_id,
                {**details, "reason": template.rejection_reason},
            )
        )
    if template.quality_score in DROPPED_QUALITY:
        found.append(
            Condition(
                Kind.QUALITY_DROPPED,
                f"template:{template.pk}",
                label,
                f"Template {label} has quality {template.quality_score}.",
                account_id,
                {**details, "quality_score": template.quality_score},
            )
        )
    return found


# --- the workspace's share of the webhook pipeline (public tables) ----------------------------------


def webhook_conditions(*, now: datetime) -> list[Condition]:
    """The journal rows for this workspace's WABAs still unfinished after
    ALERT_WEBHOOK_BACKLOG_AGE_MINUTES, and its unresolved dead letters, each over its threshold."""
    waba_ids = list(WhatsAppAccount.objects.exclude(waba_id="").values_list("waba_id", flat=True))
    phone_ids = list(
        PhoneNumber.objects.exclude(phone_number_id="").values_list("phone_number_id", flat=True)
    )
    found = []
    backlog = journal_backlog_for(
        waba_ids=waba_ids, received_before=now - timedelta(minutes=settings.ALERT_WEBHOOK_BACKLOG_AGE_MINUTES)
    )
    if backlog >= settings.ALERT_WEBHOOK_BACKLOG_THRESHOLD:
        found.append(
            Condition(
                Kind.WEBHOOK_BACKLOG,
                WEBHOOKS_SUBJECT,
                "Incoming webhooks",
                f"{backlog} webhooks from Meta have waited more than "
                f"{settings.ALERT_WEBHOOK_BACKLOG_AGE_MINUTES} minutes to be processed.",
                details={"waiting": backlog, "threshold": settings.ALERT_WEBHOOK_BACKLOG_THRESHOLD},
            )
        )
    dead = dead_letters_for(waba_ids=waba_ids, phone_number_ids=phone_ids)
    if dead >= settings.ALERT_DEAD_LETTERS_THRESHOLD:
        found.append(
            Condition(
                Kind.DEAD_LETTERS,
                WEBHOOKS_SUBJECT,
                "Incoming webhooks",
                f"{dead} webhooks from Meta could not be delivered to this workspace.",
                details={"dead_letters": dead, "threshold": settings.ALERT_DEAD_LETTERS_THRESHOLD},
            )
        )
    return found


def dead_letters_for(*, waba_ids: list[str], phone_number_ids: list[str]) -> int:
    """Unresolved dead letters routed by one of these WABA or phone number ids."""
    if not waba_ids and not phone_number_ids:
        return 0
    routed = Q(routing_kind="waba_id", routing_id__in=waba_ids) | Q(
        routing_kind="phone_number_id", routing_id__in=phone_number_ids
    )
    return WebhookDeadLetter.objects.filter(routed, resolved_at__isnull=True).count()


UNFINISHED = (WebhookJournalEntry.State.PENDING, WebhookJournalEntry.State.PROCESSING)


def journal_backlog_for(*, waba_ids: list[str], received_before: datetime) -> int:
    """Unfinished journal rows received before `received_before` whose body names one of the WABAs.

    Every entry of a webhook body carries its WABA id; the journal keeps bodies raw, so the id is
    looked for in the bytes. Only unfinished rows are read (the claim index holds just those).
    """
    if not waba_ids:
        return 0
    needles = [f'"{waba_id}"'.encode() for waba_id in waba_ids]
    names_a_waba = RawSQL(
        "(" + " OR ".join(["position(%s::bytea in body) > 0"] * len(needles)) + ")",
        needles,
        output_field=BooleanField(),
    )
    return (
        WebhookJournalEntry.objects.filter(state__in=UNFINISHED, received_at__lt=received_before)
        .alias(names_a_waba=names_a_waba)
        .filter(names_a_waba=True)
        .count()
    )
