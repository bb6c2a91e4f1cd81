"""Conditions no webhook announces: the health check's verdict, and the schedule's sweep of each
workspace's accounts, webhook backlog and dead letters."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from alerts import tasks
from alerts.models import Incident
from alerts.schedules import schedules
from analytics.health import account_health_check
from integrations.models import Event
from platform_core.schedules import schedule_specs
from tests.analytics.conftest import ALPHA, account_with_number, simulator_seed
from tests.messaging.factories import FIXTURE_PHONE_ID, FIXTURE_WABA_ID
from waba.models import WhatsAppAccount
from waba.services.accounts import account_mark_healthy, account_mark_unhealthy
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry


def dead_letters(count: int, *, routing_kind: str, routing_id: str, resolved: bool = False) -> list[int]:
    return [
        WebhookDeadLetter.objects.create(
            app_id="1",
            routing_kind=routing_kind,
            routing_id=routing_id,
            field="messages",
            envelope={},
            envelope_hash=f"{routing_id}-{index}-{resolved}",
            reason=WebhookDeadLetter.Reason.PHONE_NUMBER_MISSING,
            resolved_at=timezone.now() if resolved else None,
        ).pk
        for index in range(count)
    ]


def sweep(capture) -> None:
    with capture(execute=True):
        tasks.incidents_sweep_fan_out()


def test_the_sweep_is_a_declared_schedule():
    [spec] = schedules()
    assert spec in schedule_specs()
    assert spec.func == "alerts.tasks.incidents_sweep_fan_out" and spec.every_minutes == 5


def test_dead_letters_over_the_threshold_open_an_incident_once_and_resolving_them_closes_it(
    sync_jobs,
    settings,
    tenant_a,
    tenant_b,
    in_tenant,
    number_a,
    team_a,
    alert_endpoint,
    django_capture_on_commit_callbacks,
):
    settings.ALERT_DEAD_LETTERS_THRESHOLD = 3
    dead_letters(2, routing_kind="phone_number_id", routing_id=FIXTURE_PHONE_ID)
    dead_letters(5, routing_kind="phone_number_id", routing_id="999999", resolved=False)  # nobody's number
    dead_letters(4, routing_kind="waba_id", routing_id=FIXTURE_WABA_ID, resolved=True)

    sweep(django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        assert not Incident.objects.exists()  # 2 of alpha's are waiting: under the threshold

    third = dead_letters(1, routing_kind="waba_id", routing_id=FIXTURE_WABA_ID)
    sweep(django_capture_on_commit_callbacks)
    sweep(django_capture_on_commit_callbacks)

    with in_tenant(tenant_a):
        incident = Incident.objects.get()
        assert (incident.kind, incident.subject_key, incident.is_open) == ("dead_letters", "webhooks", True)
        assert incident.details == {"dead_letters": 3, "threshold": 3}
        assert list(Event.objects.values_list("type", flat=True)) == ["alert.opened"]
    with in_tenant(tenant_b):
        assert not Incident.objects.exists()
    assert [message.subject for message in mail.outbox] == ["Alert: Undelivered webhooks, Incoming webhooks"]
    assert mail.outbox[0].to == team_a

    WebhookDeadLetter.objects.filter(pk__in=third).update(resolved_at=timezone.now())
    sweep(django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        incident.refresh_from_db()
        assert not incident.is_open
    assert mail.outbox[-1].subject == "Resolved: Undelivered webhooks, Incoming webhooks"
    assert len(mail.outbox) == 2


def test_an_old_backlog_of_the_workspaces_webhooks_opens_an_incident(
    sync_jobs, settings, tenant_a, tenant_b, in_tenant, number_a, number_b, django_capture_on_commit_callbacks
):
    settings.ALERT_WEBHOOK_BACKLOG_THRESHOLD = 2
    old = timezone.now() - timedelta(minutes=settings.ALERT_WEBHOOK_BACKLOG_AGE_MINUTES + 1)

    def journal(waba_id: str, *, received_at, state=WebhookJournalEntry.State.PENDING) -> None:
        body = f'{{"object":"whatsapp_business_account","entry":[{{"id":"{waba_id}","changes":[]}}]}}'
        WebhookJournalEntry.objects.create(
            app_id="1", body=body.encode(), received_at=received_at, state=state
        )

    journal(FIXTURE_WABA_ID, received_at=old)
    journal(FIXTURE_WABA_ID, received_at=timezone.now())  # recent: not a backlog yet
    journal(FIXTURE_WABA_ID, received_at=old, state=WebhookJournalEntry.State.PROCESSED)
    journal(number_b.account.waba_id, received_at=old)
    journal(number_b.account.waba_id, received_at=old)
    sweep(django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        assert not Incident.objects.exists()
    with in_tenant(tenant_b):
        [incident] = Incident.objects.all()
        assert incident.kind == "webhook_backlog" and incident.details["waiting"] == 2

    journal(FIXTURE_WABA_ID, received_at=old, state=WebhookJournalEntry.State.PROCESSING)
    sweep(django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        assert list(Incident.objects.values_list("kind", flat=True)) == ["webhook_backlog"]


def test_an_unhealthy_account_found_by_the_sweep_opens_then_resolves(
    sync_jobs, tenant_a, in_tenant, number_a, team_a, django_capture_on_commit_callbacks
):
    account = number_a.account
    with in_tenant(tenant_a):
        account_mark_unhealthy(account=account, reason="Access token invalid")
    sweep(django_capture_on_commit_callbacks)
    sweep(django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        incident = Incident.objects.get()
        assert (incident.kind, incident.subject_key) == ("account_unhealthy", f"account:{account.pk}")
        assert "Access token invalid" in incident.summary
        account_mark_healthy(account=account)
    sweep(django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        assert not Incident.objects.get().is_open
    assert len(mail.outbox) == 2


@pytest.fixture
def alpha_account(graph_simulator, tenant_a, in_tenant):
    simulator_seed(graph_simulator)
    with in_tenant(tenant_a):
        yield account_with_number(ALPHA)


def test_a_failing_health_check_opens_an_incident_and_a_passing_one_resolves_it(
    alpha_account, graph_simulator, team_a, django_capture_on_commit_callbacks
):
    simulator_seed(graph_simulator, expires_at=int(time.time()) - 60)
    with django_capture_on_commit_callbacks(execute=True):
        account_health_check(account=alpha_account)
    incident = Incident.objects.get()
    assert incident.kind == "account_unhealthy"
    assert incident.details["status"] == WhatsAppAccount.Status.UNHEALTHY
    assert ALPHA["token"] not in incident.summary and ALPHA["token"] not in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        account_health_check(account=alpha_account)  # still failing: nothing new
    assert len(mail.outbox) == 1

    simulator_seed(graph_simulator, expires_at=0)
    with django_capture_on_commit_callbacks(execute=True):
        account_health_check(account=alpha_account)
    incident.refresh_from_db()
    assert not incident.is_open
    assert [message.subject.split(":")[0] for message in mail.outbox] == ["Alert", "Resolved"]
