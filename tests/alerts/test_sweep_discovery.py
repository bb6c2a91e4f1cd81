"""The sweep visits only the workspaces that may have an incident to open or resolve, found in public
tables: announced ALERTS work, the health summary, dead letters and the journal's backlog."""

from __future__ import annotations

import importlib
from datetime import timedelta
from types import SimpleNamespace

from django.apps import apps as django_apps
from django.db import connection
from django.utils import timezone

from alerts import tasks
from alerts.models import Incident
from alerts.sweep import schemas_to_sweep
from tenants.models import AccountHealthSummary, WorkPending
from tenants.services import tenant_suspend
from tenants.work_pending import WorkKind
from tests.alerts.test_detection import dead_letters, sweep
from tests.factories import TemplateFactory
from tests.messaging.factories import FIXTURE_PHONE_ID
from webhooks.models import WebhookJournalEntry


def alerts_rows() -> list[str]:
    return list(WorkPending.objects.filter(kind=WorkKind.ALERTS).values_list("schema_name", flat=True))


def test_healthy_workspaces_are_not_visited(sync_jobs, tenant_a, tenant_b, number_a, number_b):
    assert schemas_to_sweep() == []
    assert tasks.incidents_sweep_fan_out() == 0


def test_a_template_rejected_outside_any_event_is_swept_until_its_incident_resolves(
    sync_jobs, tenant_a, tenant_b, in_tenant, number_a, django_capture_on_commit_callbacks
):
    with in_tenant(tenant_a):
        template = TemplateFactory(account=number_a.account)
    assert schemas_to_sweep() == []

    with in_tenant(tenant_a):
        template.status, template.rejection_reason = "REJECTED", "INVALID_FORMAT"
        template.save()  # as the template sync writes it
    assert schemas_to_sweep() == [tenant_a.schema_name]

    sweep(django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        assert Incident.objects.get().kind == "template_rejected"
    assert schemas_to_sweep() == [tenant_a.schema_name]  # open: visited until it resolves

    with in_tenant(tenant_a):
        template.status = "APPROVED"
        template.save()
    sweep(django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        assert not Incident.objects.get().is_open
    assert alerts_rows() == []
    assert schemas_to_sweep() == []


def test_the_health_summary_brings_a_workspace_with_an_unhealthy_account_or_a_dropped_quality(
    tenant_a, tenant_b
):
    now = timezone.now()
    AccountHealthSummary.objects.create(schema_name=tenant_a.schema_name, accounts=2, updated_at=now)
    AccountHealthSummary.objects.create(schema_name=tenant_b.schema_name, accounts=1, unhealthy=1, updated_at=now)
    assert schemas_to_sweep() == [tenant_b.schema_name]

    AccountHealthSummary.objects.filter(schema_name=tenant_a.schema_name).update(worst_quality="YELLOW")
    assert schemas_to_sweep() == [tenant_a.schema_name, tenant_b.schema_name]

    tenant_suspend(tenant=tenant_b, reason="test")
    assert schemas_to_sweep() == [tenant_a.schema_name]


def test_dead_letters_bring_their_owner_from_the_threshold_on(settings, tenant_a, tenant_b, number_a, number_b):
    settings.ALERT_DEAD_LETTERS_THRESHOLD = 3
    dead_letters(2, routing_kind="phone_number_id", routing_id=FIXTURE_PHONE_ID)
    dead_letters(5, routing_kind="phone_number_id", routing_id="999999")  # nobody's number
    dead_letters(3, routing_kind="waba_id", routing_id=number_a.account.waba_id, resolved=True)
    assert schemas_to_sweep() == []

    dead_letters(1, routing_kind="waba_id", routing_id=number_a.account.waba_id)
    assert schemas_to_sweep() == [tenant_a.schema_name]


def test_an_old_backlog_brings_the_owner_of_the_wabas_it_names(settings, tenant_a, tenant_b, number_a, number_b):
    settings.ALERT_WEBHOOK_BACKLOG_THRESHOLD = 2
    old = timezone.now() - timedelta(minutes=settings.ALERT_WEBHOOK_BACKLOG_AGE_MINUTES + 1)

    def journal(*waba_ids: str, received_at=old) -> None:
        entries = ",".join(f'{{"id":"{waba_id}","changes":[]}}' for waba_id in waba_ids)
        body = f'{{"object":"whatsapp_business_account","entry":[{entries}]}}'.encode()
        WebhookJournalEntry.objects.create(app_id="1", body=body, received_at=received_at)

    journal(number_b.account.waba_id, received_at=timezone.now())  # recent: not a backlog yet
    journal(number_b.account.waba_id)
    journal(number_a.account.waba_id, "123456789")  # one of alpha's and someone else's
    WebhookJournalEntry.objects.create(app_id="1", body=b"not json", received_at=old)
    assert schemas_to_sweep() == []

    journal(number_b.account.waba_id, number_a.account.waba_id)
    assert schemas_to_sweep() == [tenant_a.schema_name, tenant_b.schema_name]


def test_the_migration_announces_incidents_left_open_before_the_sweep_followed_the_index(
    tenant_a, tenant_b, in_tenant
):
    migration = importlib.import_module("alerts.migrations.0002_announce_open_incidents")
    with in_tenant(tenant_a):
        Incident.objects.create(kind="dead_letters", subject_key="webhooks", subject_label="Incoming webhooks",
                                summary="12 webhooks could not be delivered.")
    for tenant in (tenant_a, tenant_b):
        with in_tenant(tenant):
            migration.announce_open_incidents(django_apps, SimpleNamespace(connection=connection))

    assert alerts_rows() == [tenant_a.schema_name]
    assert schemas_to_sweep() == [tenant_a.schema_name]
