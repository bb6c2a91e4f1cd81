"""Schedules: declared once, installed idempotently, run once in public and fanned out per active tenant."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.scheduler import scheduler

from analytics import tasks
from analytics.models import AccountHealthLog, UsageDaily
from platform_core.schedules import schedule_specs, schedules_check, schedules_install
from tenants.jobs import ScheduleSpec
from tenants.services import tenant_suspend
from tests.analytics.conftest import ALPHA, BETA, account_with_number, simulator_seed
from tests.analytics.factories import MessageFactory

CLUSTER = {"timeout": 60, "retry": 90, "max_attempts": 5, "catch_up": False}


def ours():
    return {s.name: s for s in Schedule.objects.filter(name__startswith="platform:")}


def test_install_creates_every_schedule_once(db):
    first = schedules_install()
    before = {name: (s.pk, s.func, s.minutes, s.next_run, s.kwargs) for name, s in ours().items()}

    second = schedules_install()

    assert sorted(first.created) == sorted(spec.name for spec in schedule_specs())
    assert (second.created, second.updated, second.deleted) == ([], [], [])
    assert {name: (s.pk, s.func, s.minutes, s.next_run, s.kwargs) for name, s in ours().items()} == before


def test_every_schedule_names_a_real_task_with_a_timeout_below_the_retry(db, settings):
    schedules_install()
    for schedule in ours().values():
        assert callable(import_string(schedule.func))
        timeout = ast.literal_eval(schedule.kwargs)["q_options"]["timeout"]
        assert timeout < settings.Q_CLUSTER["retry"]
        assert schedule.repeats == -1 and schedule.schedule_type == Schedule.MINUTES
    assert ours()["platform:account-health-checks"].minutes == 15
    assert settings.Q_CLUSTER["max_attempts"] > 0 and settings.Q_CLUSTER["catch_up"] is False


def test_changing_an_interval_updates_the_schedule_and_pulls_its_next_run_in(db, settings):
    now = datetime(2026, 3, 2, 10, 7, tzinfo=UTC)
    schedules_install(now=now)
    assert ours()["platform:usage-rollup-daily"].next_run == datetime(2026, 3, 3, 0, 30, tzinfo=UTC)
    assert ours()["platform:account-health-checks"].next_run == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)

    settings.HEALTH_CHECK_INTERVAL_MINUTES = 5
    result = schedules_install(now=now)

    assert result.updated == ["platform:account-health-checks"] and result.created == []
    health = ours()["platform:account-health-checks"]
    assert health.minutes == 5
    assert health.next_run == datetime(2026, 3, 2, 10, 10, tzinfo=UTC)


def test_schedules_no_longer_declared_are_removed_and_foreign_ones_kept(db):
    Schedule.objects.create(
        name="platform:retired-job",
        func="analytics.tasks.health_checks_fan_out",
        schedule_type=Schedule.MINUTES,
        minutes=1,
    )
    Schedule.objects.create(
        name="someone-elses", func="math.floor", schedule_type=Schedule.MINUTES, minutes=1
    )

    result = schedules_install()

    assert result.deleted == ["platform:retired-job"]
    assert Schedule.objects.filter(name="someone-elses").exists()


def test_the_command_reports_what_it_did(db):
    out = StringIO()
    call_command("install_schedules", stdout=out)
    call_command("install_schedules", stdout=out)
    lines = out.getvalue().splitlines()
    assert "0 created, 0 updated, 0 deleted" in lines[-1]
    assert Schedule.objects.filter(name__startswith="platform:").count() == len(schedule_specs())


@pytest.mark.parametrize(
    ("cluster", "specs", "message"),
    [
        ({**CLUSTER, "retry": 50}, None, "below Q_CLUSTER retry"),
        ({**CLUSTER, "max_attempts": 0}, None, "max_attempts"),
        ({**CLUSTER, "catch_up": True}, None, "catch_up must be False"),
        ({k: v for k, v in CLUSTER.items() if k != "catch_up"}, None, "catch_up must be False"),
        (CLUSTER, [ScheduleSpec("nightly", "analytics.tasks.health_checks_fan_out", 60)], "platform:"),
    ],
)
def test_unsafe_configurations_are_refused(cluster, specs, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        schedules_check(specs if specs is not None else schedule_specs(), cluster)


def test_catch_up_is_fine_when_nothing_sends():
    quiet = [spec for spec in schedule_specs() if not spec.sends]
    schedules_check(quiet, {**CLUSTER, "catch_up": True})


# --- fan-out ---------------------------------------------------------------------------------------


@pytest.fixture
def two_tenants_with_accounts(simulator, tenant_a, tenant_b, in_tenant):
    simulator_seed(simulator)
    accounts = {}
    for tenant, ids in ((tenant_a, ALPHA), (tenant_b, BETA)):
        with in_tenant(tenant):
            accounts[tenant.slug] = account_with_number(ids)
    return accounts


def health_logs(tenant, in_tenant) -> list[str]:
    with in_tenant(tenant):
        return list(AccountHealthLog.objects.values_list("account__waba_id", flat=True))


def test_health_fan_out_reaches_every_active_tenant_schema_and_no_other(
    sync_jobs, two_tenants_with_accounts, tenant_a, tenant_b, in_tenant
):
    assert tasks.health_checks_fan_out() == 2

    assert health_logs(tenant_a, in_tenant) == [ALPHA["waba_id"]]
    assert health_logs(tenant_b, in_tenant) == [BETA["waba_id"]]

    tenant_suspend(tenant=tenant_b, reason="test")
    assert tasks.health_checks_fan_out() == 1
    assert len(health_logs(tenant_a, in_tenant)) == 2
    assert len(health_logs(tenant_b, in_tenant)) == 1


def test_the_scheduler_runs_a_due_schedule_once_in_public_and_fans_out(
    sync_jobs, two_tenants_with_accounts, tenant_a, tenant_b, in_tenant
):
    schedules_install()
    Schedule.objects.filter(name="platform:account-health-checks").update(
        next_run=timezone.now() - timedelta(minutes=1)
    )

    scheduler(broker=get_broker())

    assert health_logs(tenant_a, in_tenant) == [ALPHA["waba_id"]]
    assert health_logs(tenant_b, in_tenant) == [BETA["waba_id"]]
    assert ours()["platform:account-health-checks"].next_run > timezone.now()


def test_drafts_are_not_checked(sync_jobs, two_tenants_with_accounts, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        two_tenants_with_accounts["alpha"].__class__.objects.update(status="draft")

    tasks.health_checks_fan_out()

    assert health_logs(tenant_a, in_tenant) == []


def test_usage_roll_up_fan_out_writes_each_tenant_its_own_rows(sync_jobs, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        MessageFactory(timestamp=timezone.now())

    assert tasks.usage_rollup_hourly_fan_out() == 2

    with in_tenant(tenant_a):
        assert UsageDaily.objects.get().sent == 1
    with in_tenant(tenant_b):
        assert not UsageDaily.objects.exists()


def test_daily_roll_up_recomputes_the_last_days(sync_jobs, tenant_a, in_tenant, settings):
    settings.ROLLUP_RECOMPUTE_DAYS = 2
    with in_tenant(tenant_a):
        for back in (1, 2, 3):
            MessageFactory(timestamp=timezone.now() - timedelta(days=back))

    tasks.usage_rollup_daily_fan_out()

    today = timezone.now().date()
    with in_tenant(tenant_a):
        assert sorted(UsageDaily.objects.values_list("day", flat=True)) == [
            today - timedelta(days=2),
            today - timedelta(days=1),
        ]
