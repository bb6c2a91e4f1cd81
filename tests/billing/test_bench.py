"""The billing benchmark runs end to end on a small load and cleans up after itself."""

from __future__ import annotations

from billing.management.commands.bench_billing import BillingBenchmark
from billing.plans.models import Plan, Statement
from tenants.models import Tenant


def test_the_benchmark_meters_every_event_once_and_closes_each_tenant_once(db):
    figures = BillingBenchmark(events=301, tenants=2, log=lambda text: None).run()

    assert figures["metered"] == 301
    assert figures["meter_again_metered"] == 0
    assert figures["close_again_same"] is True
    assert figures["statement_lines"] > 2
    assert not Tenant.objects.filter(slug__startswith="bench-bill-").exists()
    assert not Plan.objects.filter(code__startswith="bench-").exists()
    assert not Statement.objects.exists()
