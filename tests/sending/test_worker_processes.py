"""Real worker processes (`manage.py send_worker`) sharing the limiter, against the simulator.

These tests need committed rows that other processes can see, so they cannot use the per-test
transaction. Instead the module creates a tenant of its own (`sendlive`), works in it with real
commits, and drops it (schema and all) at the end, together with the limiter keys it used; the
session's `alpha` and `beta` are never touched. Marked slow: each starts processes.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from messaging.models import Message
from sending.limiter import rate_limiter as default_limiter
from sending.limiter import rate_limiter_reset
from tenants.models import Tenant
from tenants.services import tenant_create, tenant_delete
from tests.sending.factories import ConversationFactory, PhoneNumberFactory, simulator_seed_for
from tests.sending.helpers import (
    PACING_LOGGER,
    PacedSend,
    graph_sends,
    max_in_window,
    paced_sends,
    queue_text,
    status_webhooks_deliver,
)

# A real commit per statement; the only flush at teardown is of the limiter's own tables
# (available_apps), never of the session's tenants.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, available_apps=["sending"])]

SLUG = "sendlive"
BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def live_tenant(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        # Never outside the test database (pytest-django sets it up only for tests marked for it).
        assert connection.settings_dict["NAME"] == settings.DATABASES["default"]["TEST"]["NAME"]
        stale = Tenant.objects.filter(slug=SLUG).first()
        if stale is not None:
            tenant_delete(tenant=stale, confirm=SLUG)
        tenant = tenant_create(slug=SLUG, name="Send pipeline live tests").tenant
        yield tenant
        connection.set_schema_to_public()
        tenant_delete(tenant=tenant, confirm=SLUG)


@pytest.fixture
def live(live_tenant, graph_simulator, monkeypatch):
    """Autocommit database access in the live tenant; limiter keys it used are removed afterwards."""
    import sending.limiter as limiter_module

    monkeypatch.setattr(limiter_module, "_limiter", None)  # the default backend, as the workers use it
    graph_simulator.simulator.reset()
    used_numbers: list[str] = []
    yield used_numbers
    connection.set_schema_to_public()
    limiter = default_limiter()
    for phone_number_id in used_numbers:
        limiter.reset(prefix=f"tp:{phone_number_id}")
        limiter.reset(prefix=f"pair:{phone_number_id}:")
    limiter.reset(prefix=f"q:{live_tenant.schema_name}:")
    rate_limiter_reset()


def _database_url() -> str:
    db = connection.settings_dict
    host = db["OPTIONS"].get("host") or db["HOST"]
    return f"postgres://{db['USER']}@/{db['NAME']}?host={host}"


def start_worker(simulator, tmp_path: Path, name: str, **env_overrides: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        DEBUG="1",
        SECRET_KEY=settings.SECRET_KEY,
        ENCRYPTION_KEYS=",".join(settings.ENCRYPTION_KEYS),
        GRAPH_API_BASE_URL=simulator.base_url,
        GRAPH_API_TIMEOUT_S="1",
        SEND_SWEEP_INTERVAL_S="0.2",
        SEND_RECONCILE_GRACE_S="0.5",
        SEND_BACKOFF_BASE_S="0.05",
        LOG_LEVEL="INFO",
        LOG_LEVELS=f"{PACING_LOGGER}:DEBUG",
        **env_overrides,
    )
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_worker", "--name", name, "--max-seconds", "60"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    process.wait(timeout=20)


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def statuses(tenant, ids) -> list[str]:
    with schema_context(tenant.schema_name):
        return list(Message.objects.filter(pk__in=ids).values_list("status", flat=True))


def all_sent(tenant, ids) -> bool:
    return all(status in ("sent", "delivered", "read") for status in statuses(tenant, ids))


def worker_paced_sends(tmp_path: Path, names: list[str]) -> list[PacedSend]:
    lines = [line for name in names for line in (tmp_path / f"{name}.log").read_text().splitlines()]
    return paced_sends(lines)


def test_two_worker_processes_share_the_throughput_and_send_each_message_once(live, live_tenant, graph_simulator, tmp_path):
    with schema_context(live_tenant.schema_name):
        number = PhoneNumberFactory(throughput_mps=40)
        windows = [ConversationFactory(phone_number=number) for _ in range(160)]
        live.append(number.phone_number_id)
        simulator_seed_for(graph_simulator, number)
        ids = [queue_text(number, window.contact.wa_id, f"hello {i}").pk for i, window in enumerate(windows)]

    workers = [start_worker(graph_simulator, tmp_path, f"w{i}") for i in range(2)]
    try:
        wait_until(lambda: all_sent(live_tenant, ids), 30, "every message to be sent")
    finally:
        for worker in workers:
            stop(worker)

    requests = graph_sends(graph_simulator, number)
    callback_ids = [r["body"]["biz_opaque_callback_data"] for r in requests]
    assert sorted(callback_ids) == sorted(str(pk) for pk in ids)  # each exactly once
    # The shared limiter's decisions, on its own clock: the two processes' slots interleave one paced
    # interval apart, so no second holds more than 40. (Processes that did not share the limiter
    # would book the same slots twice. The wire-side peak is bench_send's figure: on a loaded
    # machine the simulator's receive stamps carry its own scheduling noise.)
    sends = worker_paced_sends(tmp_path, ["w0", "w1"])
    assert sorted(send.message_id for send in sends) == sorted(ids)
    interval = 1 / (40 * settings.SEND_THROUGHPUT_HEADROOM)
    gaps = [b.slot - a.slot for a, b in itertools.pairwise(sends)]
    assert min(gaps) >= interval - 5e-6, min(gaps)
    assert max_in_window((send.slot for send in sends), 1.0) <= 40
    logs = [(tmp_path / f"w{i}.log").read_text() for i in range(2)]
    sent_by = [int(log.rsplit("after sending ", 1)[1].split()[0]) for log in logs]
    assert sum(sent_by) == 160 and min(sent_by) > 0, logs  # both processes did part of the work


def test_the_pair_rate_holds_across_processes(live, live_tenant, graph_simulator, tmp_path):
    with schema_context(live_tenant.schema_name):
        number = PhoneNumberFactory(throughput_mps=80)
        window = ConversationFactory(phone_number=number)
        live.append(number.phone_number_id)
        simulator_seed_for(graph_simulator, number)
        ids = [queue_text(number, window.contact.wa_id, f"update {i}").pk for i in range(6)]

    env = {"PAIR_RATE_INTERVAL_S": "0.5", "PAIR_RATE_BURST": "2", "SEND_RESERVE_HORIZON_S": "0.05"}
    workers = [start_worker(graph_simulator, tmp_path, f"p{i}", **env) for i in range(2)]
    try:
        wait_until(lambda: all_sent(live_tenant, ids), 20, "every message to be sent")
    finally:
        for worker in workers:
            stop(worker)

    assert len(graph_sends(graph_simulator, number)) == 6
    slots = [send.slot for send in worker_paced_sends(tmp_path, ["p0", "p1"])]
    assert len(slots) == 6
    # A burst of two, then one per interval: any three messages span at least one interval, less
    # the half reserve horizon a slot may sit after the reservation that allowed it.
    assert all(slots[i + 2] - slots[i] >= 0.5 - 0.05 / 2 for i in range(len(slots) - 2)), slots


def test_a_worker_killed_mid_send_leaves_its_messages_retriable_and_sends_none_twice(live, live_tenant, graph_simulator, tmp_path):
    from graph_simulator.faults import fault_rule_parse

    with schema_context(live_tenant.schema_name):
        number = PhoneNumberFactory(throughput_mps=2)
        windows = [ConversationFactory(phone_number=number) for _ in range(4)]
        live.append(number.phone_number_id)
        simulator_seed_for(graph_simulator, number)
        ids = [queue_text(number, window.contact.wa_id).pk for window in windows]
    # The first send hangs in "Meta" for 2 s (and is accepted then); the others wait for their slots.
    graph_simulator.simulator.faults.add(fault_rule_parse({"path_contains": "/messages", "latency_ms": 2000, "times": 1}))
    env = {"SEND_RESERVE_HORIZON_S": "2"}

    first = start_worker(graph_simulator, tmp_path, "doomed", **env)
    wait_until(lambda: not graph_simulator.simulator.faults.list(), 15, "the first request to reach the simulator")
    time.sleep(0.1)
    stop(first, signal.SIGKILL)
    assert sorted(statuses(live_tenant, ids)) == ["sending"] * 4  # claimed, outcome unknown, nothing lost

    # Meta accepts the hanging request and reports it by webhook, naming our message id.
    wait_until(lambda: graph_sends(graph_simulator, number), 5, "the simulator to accept the first send")
    time.sleep(0.3)
    with schema_context(live_tenant.schema_name):
        status_webhooks_deliver(graph_simulator)

    second = start_worker(graph_simulator, tmp_path, "survivor", **env)
    try:
        wait_until(lambda: all_sent(live_tenant, ids), 30, "every message to be sent")
    finally:
        stop(second)

    callback_ids = sorted(r["body"]["biz_opaque_callback_data"] for r in graph_sends(graph_simulator, number))
    assert callback_ids == sorted(str(pk) for pk in ids)  # the one that reached Meta was not sent again
    with schema_context(live_tenant.schema_name):
        assert all(m.wamid for m in Message.objects.filter(pk__in=ids))
