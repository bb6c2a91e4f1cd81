"""The meter schedule visits only the tenants where messages were delivered since its last run."""

from __future__ import annotations

from billing import tasks
from billing.models import MeteredMessage
from messaging.statuses import message_status_apply, message_statuses_apply
from tenants.models import WorkPending
from tenants.work_pending import WorkKind
from tests.billing.factories import outbound, pricing, status


def metering_rows() -> list[str]:
    return list(WorkPending.objects.filter(kind=WorkKind.METERING).values_list("schema_name", flat=True))


def test_a_delivery_announces_metering_and_the_meter_visits_only_that_tenant(
    sync_jobs, tenant_a, tenant_b, in_tenant
):
    with in_tenant(tenant_a):
        first, second = outbound(wa_id="14155550100"), outbound(wa_id="14155550101")
        message_status_apply(event=status(first, "sent", price=pricing("marketing")))
    with in_tenant(tenant_b):
        outbound(wa_id="14155550102")
    assert metering_rows() == []  # sent is not billed yet: nothing to meter
    assert tasks.messages_meter_fan_out() == 0

    with in_tenant(tenant_a):
        message_statuses_apply(
            events=[
                status(first, "delivered", price=pricing("marketing")),
                status(second, "read", price=pricing("utility")),
            ]
        )
    assert metering_rows() == [tenant_a.schema_name]

    assert tasks.messages_meter_fan_out() == 1
    with in_tenant(tenant_a):
        assert sorted(MeteredMessage.objects.values_list("category", flat=True)) == ["marketing", "utility"]
    with in_tenant(tenant_b):
        assert not MeteredMessage.objects.exists()
    assert metering_rows() == []  # settled: the next run visits nobody
    assert tasks.messages_meter_fan_out() == 0


def test_a_delivery_during_the_meter_run_keeps_the_tenant_for_the_next_run(sync_jobs, tenant_a, in_tenant, monkeypatch):
    with in_tenant(tenant_a):
        first, late = outbound(wa_id="14155550100"), outbound(wa_id="14155550101")
        message_status_apply(event=status(first, "delivered", price=pricing("marketing")))
    meter = tasks.messages_meter

    def meter_while_a_status_arrives() -> int:
        written = meter()
        message_status_apply(event=status(late, "delivered", price=pricing("utility")))
        return written

    monkeypatch.setattr(tasks, "messages_meter", meter_while_a_status_arrives)
    assert tasks.messages_meter_fan_out() == 1
    assert metering_rows() == [tenant_a.schema_name]

    monkeypatch.setattr(tasks, "messages_meter", meter)
    assert tasks.messages_meter_fan_out() == 1
    with in_tenant(tenant_a):
        assert MeteredMessage.objects.count() == 2
    assert metering_rows() == []
