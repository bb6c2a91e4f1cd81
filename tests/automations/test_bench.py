"""`bench_automations` runs whole coffee orders through the inbound path and leaves nothing behind."""

from __future__ import annotations

import io
import json
import os

from django.core.management import call_command

from automations.models import Order, Workflow
from messaging.models import Message


def test_bench_orders_coffee_and_rolls_back(tenant_a, in_tenant):
    customers = int(os.environ.get("MENUS_BENCH_CUSTOMERS", "2"))
    out = io.StringIO()

    call_command("bench_automations", schema=tenant_a.schema_name, customers=customers, json=True, stdout=out,
                 stderr=io.StringIO())

    figures = json.loads(out.getvalue())
    assert (figures["messages"], figures["orders"]) == (customers * 7, customers)
    with in_tenant(tenant_a):
        assert not Order.objects.exists() and not Workflow.objects.exists() and not Message.objects.exists()


def test_bench_in_batches_orders_coffee_as_one_by_one_and_rolls_back(tenant_a, in_tenant):
    out = io.StringIO()

    call_command("bench_automations", schema=tenant_a.schema_name, customers=3, batch=2, json=True, stdout=out,
                 stderr=io.StringIO())

    figures = json.loads(out.getvalue())
    assert (figures["messages"], figures["orders"]) == (21, 3)
    with in_tenant(tenant_a):
        assert not Order.objects.exists() and not Workflow.objects.exists() and not Message.objects.exists()
