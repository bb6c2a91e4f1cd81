"""The public summary of each tenant's WhatsApp accounts' health, one row per tenant.

The health checks (analytics.health) store it after each check they log; the platform console's
account-health page reads it, a page at a time, without entering any tenant schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from tenants.context import connection
from tenants.models import AccountHealthSummary, Tenant

PAGE_SIZE = 50


def account_health_summary_store(
    *,
    accounts: int,
    unhealthy: int,
    worst_quality: str,
    worst_quality_rank: int,
    last_checked_at: datetime | None,
    schema_name: str | None = None,
) -> AccountHealthSummary:
    """Replace the current tenant's (or `schema_name`'s) summary row."""
    schema = schema_name or connection.schema_name
    if not schema or schema == get_public_schema_name():
        raise ValueError("a health summary belongs to a tenant schema")
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
