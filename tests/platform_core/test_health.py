"""The probes: /healthz answers without the database, /readyz names what is not ready; the worker
loops write their heartbeats."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from platform_core.heartbeats import SEND_WORKER, WEBHOOK_WORKER, Heartbeat
from platform_core.models import ProcessHeartbeat
from sending.worker import SendWorker
from webhooks.tasks import webhook_worker_run

# A load balancer polls by the machine's address, which is in no ALLOWED_HOSTS or tenant domain.
BALANCER = Client(HTTP_HOST="10.0.0.7")


def test_healthz_answers_on_any_host_without_the_database():
    # No `db` fixture: pytest-django fails any query this request would make.
    response = BALANCER.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_is_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True

    assert BALANCER.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_is_ready_with_a_fresh_required_heartbeat(settings):
    settings.READINESS_REQUIRED_PROCESSES = [WEBHOOK_WORKER]
    Heartbeat(WEBHOOK_WORKER).beat(force=True)

    response = BALANCER.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["problems"] == []
    assert body["processes"][WEBHOOK_WORKER]["state"] == "fresh"
    assert body["processes"][WEBHOOK_WORKER]["alive"] == 1
    assert body["processes"][SEND_WORKER] == {
        "required": False, "state": "missing", "last_beat_at": None, "age_s": None, "alive": 0,
    }


@pytest.mark.django_db
def test_readyz_is_unready_naming_a_stale_required_process_type(settings):
    settings.READINESS_REQUIRED_PROCESSES = [WEBHOOK_WORKER, SEND_WORKER]
    settings.HEARTBEAT_STALE_AFTER_S = 30
    Heartbeat(WEBHOOK_WORKER).beat(force=True)
    long_ago = timezone.now() - timedelta(minutes=5)
    ProcessHeartbeat.objects.create(process_type=SEND_WORKER, host="worker-2", pid=41,
                                    started_at=long_ago, last_beat_at=long_ago)

    response = BALANCER.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unready"
    assert len(body["problems"]) == 1
    assert body["problems"][0].startswith("send_worker is stale (last heartbeat 30")
    assert body["problems"][0].endswith("s ago; stale after 30 s)")
    assert body["processes"][SEND_WORKER]["state"] == "stale"
    assert body["processes"][SEND_WORKER]["alive"] == 0
    assert body["processes"][WEBHOOK_WORKER]["state"] == "fresh"


@pytest.mark.django_db
def test_readyz_is_unready_when_a_required_process_type_never_beat(settings):
    settings.READINESS_REQUIRED_PROCESSES = [SEND_WORKER]

    response = BALANCER.get("/readyz")

    assert response.status_code == 503
    assert response.json()["problems"] == ["send_worker is missing (no heartbeat yet; stale after 30 s)"]


@pytest.mark.django_db
def test_readyz_ignores_stale_process_types_that_are_not_required(settings):
    settings.READINESS_REQUIRED_PROCESSES = []
    long_ago = timezone.now() - timedelta(hours=1)
    ProcessHeartbeat.objects.create(process_type=SEND_WORKER, host="worker-2", pid=41,
                                    started_at=long_ago, last_beat_at=long_ago)

    response = BALANCER.get("/readyz")

    assert response.status_code == 200
    assert response.json()["processes"][SEND_WORKER]["state"] == "stale"


@pytest.mark.django_db
def test_the_webhook_worker_loop_writes_its_heartbeat():
    webhook_worker_run(should_stop=lambda: False, exit_when_idle=True)

    # Worker processes other tests started may have left heartbeats of their own (committed).
    assert ProcessHeartbeat.objects.filter(
        process_type=WEBHOOK_WORKER, host=socket.gethostname(), pid=os.getpid()
    ).count() == 1


@pytest.mark.django_db
def test_the_send_worker_loop_writes_its_heartbeat(tenant_a):
    SendWorker(threads=1, name="test-worker").run(
        max_seconds=5, schemas=[tenant_a.schema_name], until_idle=True, listen=False
    )

    assert ProcessHeartbeat.objects.filter(
        process_type=SEND_WORKER, host=socket.gethostname(), pid=os.getpid()
    ).count() == 1


@pytest.mark.django_db
def test_a_heartbeat_is_written_once_per_interval_on_the_database_clock():
    heartbeat = Heartbeat(WEBHOOK_WORKER, interval_s=3600)

    assert heartbeat.beat() is True
    assert heartbeat.beat() is False  # not due again for an hour
    assert heartbeat.beat(force=True) is True
    assert ProcessHeartbeat.objects.filter(process_type=WEBHOOK_WORKER).count() == 1


@pytest.mark.django_db
def test_heartbeats_of_processes_gone_for_a_day_are_deleted():
    two_days_ago = timezone.now() - timedelta(days=2)
    ProcessHeartbeat.objects.create(process_type=SEND_WORKER, host="old-machine", pid=7,
                                    started_at=two_days_ago, last_beat_at=two_days_ago)

    Heartbeat(WEBHOOK_WORKER).beat()

    assert list(ProcessHeartbeat.objects.values_list("process_type", flat=True)) == [WEBHOOK_WORKER]


def test_an_unknown_required_process_type_stops_start_up():
    import subprocess
    import sys

    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": "postgres://unused@127.0.0.1:9/unused",
           "READINESS_REQUIRED_PROCESSES": "webhook_worker,cron"}
    result = subprocess.run([sys.executable, "-c", "import platform_core.settings"], env=env,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "READINESS_REQUIRED_PROCESSES names unknown process types ['cron']" in result.stderr
