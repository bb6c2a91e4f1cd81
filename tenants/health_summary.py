"""The public summary of each tenant's WhatsApp accounts' health: one row per tenant, and one entry
per account.

The health checks (analytics.health) store it after each check they log, and when an account is
created or deleted; the platform console's account-health page and the platform API's
account-health list read it, a page at a time, without entering any tenant schema. The schedules
read it too: the health checks visit only tenants whose summary counts accounts, and the alerts'
sweep the tenants whose summary shows an unhealthy account or a dropped quality.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from tenants.context import connection
from tenants.models import AccountHealthEntry, AccountHealthSummary, Tenant
from tenants.selectors import active_tenants, customer_tenants

PAGE_SIZE = 50


def account_health_summary_store(
    *,
    accounts: int,
    unhealthy: int,
    worst_quality: str,
    worst_quality_rank: int,
    last_checked_at: datetime | None,
    entries: list[AccountHealthEntry] | None = None,
    schema_name: str | None = None,
) -> AccountHealthSummary:
    """Replace the current tenant's (or `schema_name`'s) summary row and, when `entries` is given
    (unsaved, one per account, their tenant left unset), its accounts' entries."""
    schema = schema_name or connection.schema_name
    if not schema or schema == get_public_schema_name():
        raise ValueError("a health summary belongs to a tenant schema")
    if entries is not None:
        _entries_store(schema, entries)
    summary, _ = AccountHealthSummary.objects.update_or_create(
        schema_name=schema,
        defaults={
            "accounts": accounts,
            "unhealthy": unhealthy,
            "worst_quality": worst_quality,
            "worst_quality_rank": worst_quality_rank,
            "last_checked_at": last_checked_at,
            "updated_at": timezone.now(),
        },
    )
    return summary


# What an entry's refresh rewrites (all but its key).
ENTRY_FIELDS = [
    field.name
    for field in AccountHealthEntry._meta.concrete_fields
    if field.name not in ("id", "tenant", "account_id")
]


def _entries_store(schema: str, entries: list[AccountHealthEntry]) -> None:
    """Upsert the tenant's entries and drop those of accounts that are gone: two refreshes of one
    tenant at once (two accounts checked in parallel) both succeed."""
    tenant_id = Tenant.objects.filter(schema_name=schema).values_list("pk", flat=True).first()
    if tenant_id is None:
        return
    for entry in entries:
        entry.tenant_id = tenant_id
    with transaction.atomic():
        AccountHealthEntry.objects.filter(tenant_id=tenant_id).exclude(
            account_id__in=[entry.account_id for entry in entries]
        ).delete()
        AccountHealthEntry.objects.bulk_create(
            entries, update_conflicts=True, unique_fields=["tenant", "account_id"], update_fields=ENTRY_FIELDS
        )


@dataclass(frozen=True)
class HealthSummaryRow:
    tenant_slug: str
    tenant_name: str
    tenant_status: str
    accounts: int
    unhealthy: int
    worst_quality: str
    last_checked_at: datetime | None


@dataclass(frozen=True)
class HealthSummaryPage:
    rows: list[HealthSummaryRow]
    total: int
    page: int
    pages: int


def account_health_summaries(*, page: int = 1, unhealthy_only: bool = False) -> HealthSummaryPage:
    """One page of tenants' summaries, tenants with unhealthy accounts first, then by worst quality.
    Three queries whatever the number of tenants (count, page, their tenants)."""
    summaries = AccountHealthSummary.objects.filter(accounts__gt=0)
    if unhealthy_only:
        summaries = summaries.filter(unhealthy__gt=0)
    total = summaries.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    chosen = list(
        summaries.order_by("-unhealthy", "worst_quality_rank", "schema_name")[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE
        ]
    )
    tenants = {
        tenant.schema_name: tenant
        for tenant in Tenant.objects.filter(schema_name__in=[summary.schema_name for summary in chosen])
    }
    rows = [
        HealthSummaryRow(
            tenant_slug=tenant.slug,
            tenant_name=tenant.name,
            tenant_status=tenant.status,
            accounts=summary.accounts,
            unhealthy=summary.unhealthy,
            worst_quality=summary.worst_quality,
            last_checked_at=summary.last_checked_at,
        )
        for summary in chosen
        if (tenant := tenants.get(summary.schema_name)) is not None
    ]
    return HealthSummaryPage(rows=rows, total=total, page=page, pages=pages)


def account_health_entries(*, status: str | None = None) -> QuerySet[AccountHealthEntry]:
    """Every tenant's accounts as their summaries last stored them, unhealthy first (then by tenant
    slug and account id), with their tenant; only accounts in `status` when given."""
    entries = AccountHealthEntry.objects.filter(tenant__in=customer_tenants()).select_related("tenant")
    if status:
        entries = entries.filter(status=status)
    return entries.order_by("health_rank", "tenant__slug", "account_id")


# --- what the schedules visit ----------------------------------------------------------------------


def schemas_with_accounts() -> list[str]:
    """Active tenants whose summary counts accounts, and those with no summary yet: the health checks'
    fan-out. A tenant without a summary is visited once; its visit stores one (analytics.tasks)."""
    summaries = AccountHealthSummary.objects.filter(schema_name=OuterRef("schema_name"))
    return list(
        active_tenants()
        .filter(Exists(summaries.filter(accounts__gt=0)) | ~Exists(summaries))
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )


def schemas_with_unhealthy_accounts(*, dropped_qualities: Iterable[str]) -> list[str]:
    """Active tenants whose summary shows an unhealthy account, or a number whose quality rating is
    among `dropped_qualities`."""
    summaries = AccountHealthSummary.objects.filter(schema_name=OuterRef("schema_name")).filter(
        Q(unhealthy__gt=0) | Q(worst_quality__in=list(dropped_qualities))
    )
    return list(active_tenants().filter(Exists(summaries)).values_list("schema_name", flat=True))
