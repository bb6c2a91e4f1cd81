"""Tenant-aware background jobs: the schema travels with the task; no schema, no run."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tenants.context import connection
from tenants.errors import TenantContextMissing
from tenants.jobs import run_in_tenant, tenant_task, tenant_task_enqueue, tenants_fan_out
from tenants.services import tenant_suspend


@tenant_task
def record_group(name: str) -> str:
    Group.objects.create(name=name)
    return connection.schema_name


def test_task_enqueued_while_serving_a_tenant_writes_only_there(sync_jobs, tenant_a, tenant_b, in_tenant):
    connection.set_tenant(tenant_a)
    tenant_task_enqueue(record_group, "made-by-job")
    connection.set_schema_to_public()

    with in_tenant(tenant_a):
        assert Group.objects.filter(name="made-by-job").exists()
    with in_tenant(tenant_b):
        assert not Group.objects.filter(name="made-by-job").exists()
    assert not Group.objects.filter(name="made-by-job").exists()


def test_enqueue_without_schema_in_public_is_refused(sync_jobs, db):
    with pytest.raises(TenantContextMissing):
        tenant_task_enqueue(record_group, "nowhere")
    assert not Group.objects.filter(name="nowhere").exists()


def test_worker_refuses_a_task_without_schema(db):
    with pytest.raises(TenantContextMissing):
        run_in_tenant("public", "tests.tenants.test_jobs.record_group", ["nowhere"], {})
    with pytest.raises(TenantContextMissing):
        run_in_tenant("", "tests.tenants.test_jobs.record_group", ["nowhere"], {})


def test_tenant_task_called_directly_in_public_refuses(db):
    with pytest.raises(TenantContextMissing):
        record_group("direct")
    assert not Group.objects.filter(name="direct").exists()


def test_fan_out_reaches_every_active_tenant_and_skips_suspended(sync_jobs, tenant_a, tenant_b, in_tenant):
    tenants_fan_out(record_group, "fanned")
    with in_tenant(tenant_a):
        assert Group.objects.filter(name="fanned").count() == 1
    with in_tenant(tenant_b):
        assert Group.objects.filter(name="fanned").count() == 1

    tenant_suspend(tenant=tenant_b, reason="test")
    task_ids = tenants_fan_out(record_group, "fanned-again")
    assert len(task_ids) == 1
    with in_tenant(tenant_a):
        assert Group.objects.filter(name="fanned-again").exists()
    with in_tenant(tenant_b):
        assert not Group.objects.filter(name="fanned-again").exists()


def test_a_task_queued_before_suspension_is_skipped_at_run_time(tenant_b, in_tenant):
    tenant_suspend(tenant=tenant_b, reason="test")
    assert run_in_tenant(tenant_b.schema_name, "tests.tenants.test_jobs.record_group", ["late"], {}) is None
    with in_tenant(tenant_b):
        assert not Group.objects.filter(name="late").exists()
