"""The public health summary: each health check stores its tenant's row; the platform console's
account-health page lists those rows, a page at a time, without entering any tenant schema."""

from __future__ import annotations

import re
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from analytics.health import account_health_check
from tenants.health_summary import PAGE_SIZE
from tenants.models import AccountHealthSummary, Tenant
from tests.analytics.conftest import ALPHA, account_with_number, simulator_seed
from tests.console.conftest import console_a, platform_console, staff, user_a  # noqa: F401  (fixtures)


@pytest.fixture
def alpha_account(simulator, tenant_a, in_tenant):
    simulator_seed(simulator)
    with in_tenant(tenant_a):
        return account_with_number(ALPHA)


def check(tenant: Tenant, account) -> object:
    with schema_context(tenant.schema_name):
        return account_health_check(account=account)


def summary_of(tenant: Tenant) -> AccountHealthSummary:
    return AccountHealthSummary.objects.get(schema_name=tenant.schema_name)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_each_check_stores_its_tenants_summary_and_no_other(alpha_account, simulator, tenant_a, tenant_b):
    log = check(tenant_a, alpha_account)
    assert hasattr(log, "checked_at")

    summary = summary_of(tenant_a)
    assert (summary.accounts, summary.unhealthy, summary.last_checked_at) == (1, 0, log.checked_at)
    with schema_context(tenant_a.schema_name):
        assert summary.worst_quality == alpha_account.phone_numbers.get().quality_rating
    assert not AccountHealthSummary.objects.filter(schema_name=tenant_b.schema_name).exists()

    simulator_seed(simulator, expires_at=int(time.time()) - 60)  # the token has expired
    later = check(tenant_a, alpha_account)

    summary = summary_of(tenant_a)
    assert (summary.accounts, summary.unhealthy, summary.last_checked_at) == (1, 1, later.checked_at)


def test_the_page_shows_the_summary_from_public_only(alpha_account, simulator, platform_console, tenant_a):  # noqa: F811
    simulator_seed(simulator, expires_at=int(time.time()) - 60)
    check(tenant_a, alpha_account)

    with CaptureQueriesContext(connection) as queries:
        page = _text(platform_console.get("/app/health/"))

    assert f'>{tenant_a.name}</a>' in page and "1 unhealthy" in page and "1 tenant." in page
    switches = [query["sql"] for query in queries.captured_queries if "search_path" in query["sql"]]
    assert not [sql for sql in switches if tenant_a.schema_name in sql]  # never enters a tenant schema
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert "waba_whatsappaccount" not in statements and "analytics_accounthealthlog" not in statements


def test_the_page_is_paged_with_unhealthy_tenants_first(platform_console, db):  # noqa: F811
    from django.utils import timezone

    now = timezone.now()
    for n in range(PAGE_SIZE + 10):
        Tenant.objects.create(schema_name=f"t_many{n:03}", slug=f"many-{n:03}", name=f"Many {n:03}")
        AccountHealthSummary.objects.create(
            schema_name=f"t_many{n:03}", accounts=2, unhealthy=1 if n == PAGE_SIZE + 5 else 0,
            worst_quality="GREEN", worst_quality_rank=3, last_checked_at=now, updated_at=now,
        )

    first = _text(platform_console.get("/app/health/"))
    second = _text(platform_console.get("/app/health/?page=2"))

    assert f"{PAGE_SIZE + 10} tenants." in first and "Page 1 of 2" in first
    assert first.index("Many 055") < first.index("Many 000")  # the unhealthy one leads
    assert "Many 049" not in first and "Many 059" in second and "Many 000" not in second
    only_unhealthy = _text(platform_console.get("/app/health/?status=unhealthy"))
    assert "1 tenant." in only_unhealthy and "Many 055" in only_unhealthy


def test_a_tenant_user_cannot_open_the_page(console_a):  # noqa: F811
    assert console_a.get("/app/health/").status_code == 404
