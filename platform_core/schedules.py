"""Every recurring job of the platform, collected from the apps that declare them, and the code that installs them.

`schedules_install()` (the `install_schedules` command, run by `make run`) makes django-q2's
Schedule table match `schedule_specs()`: a missing schedule is created, a changed one updated
(a shorter interval also pulls its next run in), one we no longer declare is deleted, and a
second run changes nothing. Only schedules named with SCHEDULE_PREFIX are ours to manage.

Each schedule runs once, in the public schema, and fans out one task per active tenant inside
that tenant's schema (tenants.jobs.tenants_fan_out). The rules the broker needs are checked
here, so a bad configuration stops start-up instead of running jobs twice:
- every timeout is below Q_CLUSTER["retry"] (else a slow task is handed out again);
- Q_CLUSTER["max_attempts"] bounds retries (django-q2 has no per-schedule attempt limit);
- nothing that sends may replay missed runs: Q_CLUSTER["catch_up"] must be off when one does
  (django-q2 has catch_up only cluster-wide).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from alerts import schedules as alerts_schedules
from analytics import schedules as analytics_schedules
from audit import schedules as audit_schedules
from automations import schedules as automations_schedules
from billing import schedules as billing_schedules
from broadcasts import schedules as broadcasts_schedules
from integrations import schedules as integrations_schedules
from messaging import schedules as messaging_schedules
from sending import schedules as sending_schedules
from tenants.jobs import SCHEDULE_PREFIX, ScheduleSpec
from waba import schedules as waba_schedules
from webhooks import schedules as webhooks_schedules


def schedule_specs() -> list[ScheduleSpec]:
    """Every app's recurring jobs, collected; the apps declare them in their own `schedules.py`."""
    return [
        *alerts_schedules.schedules(),
        *analytics_schedules.schedules(),
        *audit_schedules.schedules(),
        *automations_schedules.schedules(),
        *broadcasts_schedules.schedules(),
        *billing_schedules.schedules(),
        *integrations_schedules.schedules(),
        *messaging_schedules.schedules(),
        *sending_schedules.schedules(),
        *waba_schedules.schedules(),
        *webhooks_schedules.schedules(),
    ]


@dataclass(frozen=True)
class InstallResult:
    created: list[str]
    updated: list[str]
    deleted: list[str]
    unchanged: list[str]


def schedules_check(specs: list[ScheduleSpec], cluster: dict) -> None:
    """Refuse a configuration under which a job could run twice, forever, or replay sends."""
    retry = cluster.get("retry", 60)
    for spec in specs:
        if not spec.name.startswith(SCHEDULE_PREFIX):
            raise ImproperlyConfigured(f"Schedule {spec.name!r} must be named {SCHEDULE_PREFIX}...")
        if spec.every_minutes < 1:
            raise ImproperlyConfigured(f"Schedule {spec.name!r} needs an interval of at least a minute.")
        if not 0 < spec.timeout_s < retry:
            raise ImproperlyConfigured(
                f"Schedule {spec.name!r}: timeout {spec.timeout_s}s must be below Q_CLUSTER retry ({retry}s)."
            )
    if not cluster.get("max_attempts"):
        raise ImproperlyConfigured("Q_CLUSTER max_attempts must bound retries (it is unlimited when 0).")
    sending = [spec.name for spec in specs if spec.sends]
    if sending and cluster.get("catch_up", True):  # django-q2's default is to catch up
        raise ImproperlyConfigured(f"Q_CLUSTER catch_up must be False: {', '.join(sending)} send messages.")


@transaction.atomic
def schedules_install(
    *, now: datetime | None = None, specs: list[ScheduleSpec] | None = None
) -> InstallResult:
    """Make the Schedule table match the declared specs. Idempotent."""
    now = now or timezone.now()
    specs = schedule_specs() if specs is None else specs
    schedules_check(specs, settings.Q_CLUSTER)
    result = InstallResult(created=[], updated=[], deleted=[], unchanged=[])
    existing = {
        s.name: s for s in Schedule.objects.select_for_update().filter(name__startswith=SCHEDULE_PREFIX)
    }
    for spec in specs:
        wanted = {
            "func": spec.func,
            "schedule_type": Schedule.MINUTES,
            "minutes": spec.every_minutes,
            "kwargs": spec.kwargs,
            "args": None,
            "hook": None,
            "repeats": -1,
            "cluster": None,
        }
        schedule = existing.pop(spec.name, None)
        if schedule is None:
            Schedule.objects.create(name=spec.name, next_run=spec.first_run(now), **wanted)
            result.created.append(spec.name)
            continue
        changed = [field for field, value in wanted.items() if getattr(schedule, field) != value]
        latest_next_run = now + timedelta(minutes=spec.every_minutes)
        if schedule.next_run is None or schedule.next_run > latest_next_run:
            schedule.next_run = spec.first_run(now)
            changed.append("next_run")
        if not changed:
            result.unchanged.append(spec.name)
            continue
        for field, value in wanted.items():
            setattr(schedule, field, value)
        schedule.save()
        result.updated.append(spec.name)
    for name, schedule in existing.items():
        schedule.delete()
        result.deleted.append(name)
    return result
