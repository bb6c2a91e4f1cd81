"""Workflow step visits are kept WORKFLOW_STEP_VISITS_KEEP_DAYS: a daily schedule deletes older ones in
bounded batches, in each active tenant old enough to hold any, and leaves every newer visit to the funnels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from automations import tasks
from automations.models import Workflow, WorkflowStepVisit
from automations.services.step_visits import workflow_step_visits_prune
from messaging.models import Contact
from platform_core.schedules import schedule_specs
from tenants.models import Tenant
from tenants.services import tenant_suspend
from tests.factories import PhoneNumberFactory

DEFINITION = {"start": "ask", "steps": {"ask": {"type": "end", "text": "Bye"}}}


def _visits(workflow: Workflow, *ages_days: float) -> None:
    contact = Contact.objects.create(wa_id=f"49151{workflow.pk:08d}")
    number = PhoneNumberFactory.create()
    now = timezone.now()
    WorkflowStepVisit.objects.bulk_create(
        WorkflowStepVisit(workflow=workflow, workflow_version=1, step=f"step{index}", contact=contact,
                          phone_number_id=number.pk, entered_at=now - timedelta(days=age))
        for index, age in enumerate(ages_days)
    )


def _ages() -> list[int]:
    now = timezone.now()
    return sorted(round((now - at).total_seconds() / 86400) for at in
                  WorkflowStepVisit.objects.values_list("entered_at", flat=True))


@pytest.fixture
def keep_30_days(settings):
    settings.WORKFLOW_STEP_VISITS_KEEP_DAYS = 30


def test_visits_older_than_the_kept_days_go_in_batches_and_newer_ones_stay(keep_30_days, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        shop = Workflow.objects.create(name="shop", definition=DEFINITION)
        support = Workflow.objects.create(name="support", definition=DEFINITION)
        _visits(shop, 400, 90, 31, 29.9, 29, 1)
        _visits(support, 45, 31, 2)

        deleted = workflow_step_visits_prune(batch_size=2)

        assert deleted == 5
        assert _ages() == [1, 2, 29, 30]
        assert WorkflowStepVisit.objects.filter(workflow=support).count() == 1


def test_the_default_keeps_more_than_a_year_of_funnels(settings, tenant_a, in_tenant):
    assert settings.WORKFLOW_STEP_VISITS_KEEP_DAYS == 400
    with in_tenant(tenant_a):
        _visits(Workflow.objects.create(name="shop", definition=DEFINITION), 401, 366, 200)

        assert workflow_step_visits_prune() == 1
        assert _ages() == [200, 366]


def test_an_exhausted_budget_leaves_the_rest_for_the_next_day(keep_30_days, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        _visits(Workflow.objects.create(name="shop", definition=DEFINITION), 90, 80, 70)

        assert workflow_step_visits_prune(budget_s=0) == 0
        assert workflow_step_visits_prune() == 3


def test_the_daily_fan_out_prunes_only_tenants_old_enough_to_hold_expired_visits(
    sync_jobs, keep_30_days, tenant_a, tenant_b, in_tenant
):
    Tenant.objects.filter(pk=tenant_a.pk).update(created_at=timezone.now() - timedelta(days=60))
    Tenant.objects.filter(pk=tenant_b.pk).update(created_at=timezone.now() - timedelta(days=5))
    for tenant in (tenant_a, tenant_b):
        with in_tenant(tenant):
            _visits(Workflow.objects.create(name="shop", definition=DEFINITION), 45, 3)

    assert tasks.workflow_step_visits_prune_fan_out() == 1

    with in_tenant(tenant_a):
        assert _ages() == [3]
    with in_tenant(tenant_b):  # a five-day-old workspace is not visited (its rows here are backdated)
        assert _ages() == [3, 45]


def test_a_suspended_tenant_is_not_visited(sync_jobs, keep_30_days, tenant_a, tenant_b, in_tenant):
    Tenant.objects.update(created_at=timezone.now() - timedelta(days=60))
    tenant_suspend(tenant=tenant_b, reason="unpaid")

    assert tasks.workflow_step_visits_prune_fan_out() == 1


def test_the_prune_is_a_daily_schedule():
    [spec] = [spec for spec in schedule_specs() if spec.name == "platform:workflow-step-visits-prune"]

    assert (spec.func, spec.every_minutes) == ("automations.tasks.workflow_step_visits_prune_fan_out", 1440)
