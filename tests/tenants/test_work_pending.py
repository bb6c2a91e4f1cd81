"""The work-pending index: written with the work, settled by the worker that drains it, read by the
send worker, the webhook delivery worker and the frequent schedules instead of every schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from broadcasts import tasks as campaign_tasks
from integrations.models import Delivery
from integrations.services import endpoint_create, event_emit
from integrations.worker import deliveries_run_once
from messaging.models import Message
from sending import outbox
from sending import tasks as sending_tasks
from sending.worker import SendWorker
from tenants.models import WorkPending
from tenants.services import tenant_suspend
from tenants.work_pending import WorkKind, work_announce, work_due, work_settle, work_version
from tests.integrations.conftest import allow_private, receiver  # noqa: F401  (fixtures)
from tests.sending.conftest import fast_retries, open_window_a, template_a  # noqa: F401
from tests.sending.factories import simulator_seed_for
from tests.sending.helpers import graph_sends, queue_text


@pytest.fixture(autouse=True)
def _empty_index(db):
    """Rows other suites committed (their tests that commit for real) are not this test's."""
    WorkPending.objects.all().delete()


@pytest.fixture
def sim(graph_simulator, number_a, template_a, fast_retries):  # noqa: F811
    simulator_seed_for(graph_simulator, number_a, [template_a])
    return graph_simulator


def rows(kind: str = WorkKind.OUTBOX) -> dict[str, int]:
    return dict(WorkPending.objects.filter(kind=kind).values_list("schema_name", "version"))


def index_driven_worker(*schemas: str) -> SendWorker:
    """A worker that hears no notification and skips its start-up check of unindexed tenants: the
    index is all it knows."""
    worker = SendWorker(threads=2, name="test-worker")
    worker._unindexed = []
    return worker


def run_until_idle(worker: SendWorker, schema: str) -> None:
    worker.run(max_seconds=10, schemas=[schema], until_idle=True, listen=False)


def look_again_later(schema: str) -> None:
    """Time passes beyond the leases of the messages sent: the next worker to look settles the row."""
    WorkPending.objects.update(due_at=timezone.now())
    worker = index_driven_worker()
    worker._schemas = [schema]
    worker._sweep()
    worker._cycle_due_tenants()
    worker._shutdown()


# --- written with the work -------------------------------------------------------------------------


def test_queueing_a_message_announces_its_tenant_and_only_its_tenant(
    sim, tenant_a, tenant_b, in_tenant, number_a, open_window_a  # noqa: F811
):
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)

    row = WorkPending.objects.get(kind=WorkKind.OUTBOX)
    assert row.schema_name == tenant_a.schema_name
    assert row.due_at <= message.next_attempt_at
    assert tenant_b.schema_name not in rows()


def test_work_rolled_back_leaves_no_row(sim, tenant_a, in_tenant, number_a, open_window_a):  # noqa: F811
    with in_tenant(tenant_a), pytest.raises(RuntimeError), transaction.atomic():
        queue_text(number_a, open_window_a.contact.wa_id)
        assert tenant_a.schema_name in rows()
        raise RuntimeError("the caller's transaction fails after queueing")

    assert rows() == {}
    with in_tenant(tenant_a):
        assert not Message.objects.exists()


def test_a_later_announcement_keeps_the_earliest_due_time_and_bumps_the_version(tenant_a, in_tenant):
    now = timezone.now()
    with in_tenant(tenant_a):
        work_announce(kind=WorkKind.OUTBOX, due_at=now + timedelta(hours=1))
        work_announce(kind=WorkKind.OUTBOX, due_at=now + timedelta(hours=2))
        work_announce(kind=WorkKind.OUTBOX, due_at=now + timedelta(minutes=5))

    row = WorkPending.objects.get()
    assert (row.due_at, row.version) == (now + timedelta(minutes=5), 3)


def test_announcing_outside_a_tenant_schema_is_refused(db):
    with pytest.raises(ValueError):
        work_announce(kind=WorkKind.OUTBOX)


# --- settled by the drain --------------------------------------------------------------------------


def test_a_drained_tenant_leaves_the_index(sim, tenant_a, in_tenant, number_a, open_window_a):  # noqa: F811
    with in_tenant(tenant_a):
        messages = [queue_text(number_a, open_window_a.contact.wa_id, f"m{n}") for n in range(3)]

    run_until_idle(index_driven_worker(), tenant_a.schema_name)

    assert len(graph_sends(sim, number_a)) == 3
    with in_tenant(tenant_a):
        assert set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True)) == {
            "sent"
        }
    look_again_later(tenant_a.schema_name)
    assert rows() == {}


def test_a_row_announced_again_since_the_worker_looked_is_not_cleared(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        work_announce(kind=WorkKind.OUTBOX)
        seen = work_version(kind=WorkKind.OUTBOX)  # a worker reads the row, then finds the outbox empty
        work_announce(kind=WorkKind.OUTBOX)  # meanwhile a message is queued

        assert work_settle(kind=WorkKind.OUTBOX, version=seen, due_at=None) is False
        assert tenant_a.schema_name in rows()

        assert work_settle(kind=WorkKind.OUTBOX, version=work_version(kind=WorkKind.OUTBOX), due_at=None)
    assert rows() == {}


def test_a_message_queued_while_a_worker_drains_keeps_its_row(sim, tenant_a, in_tenant, number_a, open_window_a):  # noqa: F811
    """The worker read the version, found nothing due, and a message was queued before it settled."""
    with in_tenant(tenant_a):
        work_announce(kind=WorkKind.OUTBOX)
    worker = index_driven_worker()
    worker._schemas = [tenant_a.schema_name]
    worker._sweep()  # reads the row's version
    with in_tenant(tenant_a):
        queue_text(number_a, open_window_a.contact.wa_id)  # bumps it
        worker._index_settle(tenant_a.schema_name)
    worker._shutdown()

    assert tenant_a.schema_name in rows()
    run_until_idle(index_driven_worker(), tenant_a.schema_name)
    assert len(graph_sends(sim, number_a)) == 1
    look_again_later(tenant_a.schema_name)
    assert rows() == {}


# --- the send worker reads the index ------------------------------------------------------------------


def test_a_message_whose_notification_was_lost_is_sent_from_the_index(sim, tenant_a, in_tenant, number_a, open_window_a):  # noqa: F811
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
    worker = index_driven_worker()

    run_until_idle(worker, tenant_a.schema_name)  # listen=False: no notification is heard

    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert message.status == "sent"
    assert len(graph_sends(sim, number_a)) == 1


def test_a_tenant_without_a_row_is_not_visited_until_the_start_up_check_finds_its_work(
    sim, tenant_a, in_tenant, number_a, open_window_a  # noqa: F811
):
    with in_tenant(tenant_a):
        queue_text(number_a, open_window_a.contact.wa_id)
    WorkPending.objects.all().delete()  # work queued before the index existed

    run_until_idle(index_driven_worker(), tenant_a.schema_name)
    assert graph_sends(sim, number_a) == []

    SendWorker(threads=2, name="test-worker").run(  # a fresh worker checks every tenant once
        max_seconds=10, schemas=[tenant_a.schema_name], until_idle=True, listen=False
    )
    assert len(graph_sends(sim, number_a)) == 1


def test_a_crashed_workers_claim_is_reconciled_from_the_index(sim, tenant_a, in_tenant, number_a, open_window_a):  # noqa: F811
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
        version = work_version(kind=WorkKind.OUTBOX)
        assert outbox.outbox_claim(phone_number_pk=number_a.pk, limit=1, lease_s=0.5)  # then the worker dies
        # The row stays while the message is in flight, due when its lease runs out.
        assert work_settle(kind=WorkKind.OUTBOX, version=version, due_at=outbox.outbox_next_due())
    lease_end = WorkPending.objects.get().due_at
    assert lease_end > timezone.now() - timedelta(seconds=1)

    run_until_idle(index_driven_worker(), tenant_a.schema_name)

    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    look_again_later(tenant_a.schema_name)
    assert rows() == {}


def test_a_suspended_tenants_row_is_not_due_and_stays(sim, tenant_a, tenant_b, in_tenant, number_a, open_window_a):  # noqa: F811
    with in_tenant(tenant_a):
        queue_text(number_a, open_window_a.contact.wa_id)
    with in_tenant(tenant_b):
        work_announce(kind=WorkKind.OUTBOX)
    tenant_suspend(tenant=tenant_a, reason="unpaid")

    assert [row.schema_name for row in work_due(kind=WorkKind.OUTBOX)] == [tenant_b.schema_name]
    assert tenant_a.schema_name in rows()


# --- the frequent schedules fan out by the index ---------------------------------------------------------


def test_the_stuck_messages_schedule_fans_out_only_to_tenants_with_an_outbox(
    sync_jobs, sim, tenant_a, tenant_b, in_tenant, number_a, open_window_a  # noqa: F811
):
    assert sending_tasks.stuck_messages_reconcile_fan_out() == 0
    with in_tenant(tenant_a):
        queue_text(number_a, open_window_a.contact.wa_id)

    assert sending_tasks.stuck_messages_reconcile_fan_out() == 1
    assert list(rows()) == [tenant_a.schema_name]


def test_the_campaigns_schedule_fans_out_only_while_a_campaign_runs(sync_jobs, tenant_a, tenant_b, in_tenant, monkeypatch):
    visited: list[str] = []
    monkeypatch.setattr(campaign_tasks, "campaigns_finish", lambda: visited.append("finish") or [])
    assert campaign_tasks.campaigns_finish_fan_out() == 0

    with in_tenant(tenant_b):
        work_announce(kind=WorkKind.CAMPAIGNS)  # a campaign started
    assert campaign_tasks.campaigns_finish_fan_out() == 1
    assert visited == ["finish"]
    # No campaign is running any more in beta: its row went with that run.
    assert rows(WorkKind.CAMPAIGNS) == {}
    assert campaign_tasks.campaigns_finish_fan_out() == 0


# --- the webhook delivery worker reads the index ----------------------------------------------------------


def test_deliveries_are_found_from_the_index_and_the_drained_tenant_leaves_it(
    receiver, tenant_a, tenant_b, in_tenant  # noqa: F811
):
    with in_tenant(tenant_a):
        endpoint_create(url=receiver.url, event_types=["message.received"])
        event_emit(type="message.received", data={"n": 1})
    assert list(rows(WorkKind.DELIVERIES)) == [tenant_a.schema_name]

    assert deliveries_run_once() == 1
    assert len(receiver.requests) == 1
    # The row waited for the attempt's lease; the next look after it finds nothing left.
    lease_end = WorkPending.objects.get(kind=WorkKind.DELIVERIES).due_at
    assert work_due(kind=WorkKind.DELIVERIES) == []
    assert deliveries_run_once(now=lease_end) == 0
    assert rows(WorkKind.DELIVERIES) == {}


def test_a_failed_delivery_waits_in_the_index_until_its_retry(receiver, tenant_a, in_tenant):  # noqa: F811
    receiver.statuses = [500]
    with in_tenant(tenant_a):
        endpoint_create(url=receiver.url, event_types=["message.received"])
        event_emit(type="message.received", data={"n": 1})

    assert deliveries_run_once() == 1
    assert deliveries_run_once() == 0  # its retry is not due yet: the row waits for it
    with in_tenant(tenant_a):
        retry_at = Delivery.objects.get().next_attempt_at
    assert WorkPending.objects.get(kind=WorkKind.DELIVERIES).due_at == retry_at
    assert work_due(kind=WorkKind.DELIVERIES) == []

    assert deliveries_run_once(now=retry_at) == 1
    assert [request.body for request in receiver.requests][-1] == receiver.requests[0].body


def test_the_media_schedule_fans_out_only_to_tenants_with_media_pending(sync_jobs, tenant_a, tenant_b, in_tenant):
    from messaging.media_tasks import media_due_keep_fan_out

    assert media_due_keep_fan_out() == []
    with in_tenant(tenant_b):
        work_announce(kind=WorkKind.MEDIA)  # as storing an inbound image does

    assert len(media_due_keep_fan_out()) == 1
    assert rows(WorkKind.MEDIA) == {}  # beta had nothing pending after all: it left the index
