"""The send worker against the Graph API simulator (a real HTTP server): sends, retries, failures, pacing."""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from messaging.models import Message, StatusEvent
from sending.dispatcher import max_lateness_s
from sending.limiter import rate_limiter
from sending.services import message_send
from sending.worker import SendWorker, pair_key
from tests.sending.factories import ConversationFactory, PhoneNumberFactory, simulator_seed_for
from tests.sending.helpers import (
    PACING_LOGGER,
    caplog_paced_sends,
    drain,
    graph_sends,
    max_in_window,
    queue_text,
    status_webhooks_deliver,
)
from waba.models import WhatsAppAccount


@pytest.fixture
def sim(graph_simulator, number_a, template_a, fast_retries):
    simulator_seed_for(graph_simulator, number_a, [template_a])
    return graph_simulator


def fault(sim, **rule):
    from graph_simulator.faults import fault_rule_parse

    sim.simulator.faults.add(fault_rule_parse(rule))


def test_queued_messages_go_out_with_the_exact_request_and_get_their_wamid(sim, tenant_a, in_tenant, number_a, template_a, open_window_a):
    with in_tenant(tenant_a):
        text = queue_text(number_a, open_window_a.contact.wa_id, "Your table is ready")
        template = message_send(
            phone_number_id=number_a.phone_number_id,
            to="+4915112345678",
            content={"type": "template", "template": {"name": template_a.name, "language": "en_US", "body_parameters": ["Ada", "7"]}},
        ).message

    drain(tenant_a)

    requests = sorted(graph_sends(sim, number_a), key=lambda r: int(r["body"]["biz_opaque_callback_data"]))
    assert [r["body"] for r in requests] == [text.request_payload, template.request_payload]
    token = number_a.account.access_token.reveal()
    assert all(r["authorization"] == f"Bearer …{token[-4:]}" for r in requests)
    assert all(r["status"] == 200 for r in requests)
    with in_tenant(tenant_a):
        for message in Message.objects.filter(pk__in=[text.pk, template.pk]):
            assert message.status == "sent"
            assert message.wamid and message.wamid.startswith("wamid.")
            assert message.sent_at is not None and message.attempts == 1
            assert message.error_code is None


def test_throttling_answers_are_retried_until_they_succeed(sim, tenant_a, in_tenant, number_a, open_window_a):
    fault(sim, path_contains="/messages", error_code=130429, times=2)
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)

    drain(tenant_a)

    assert [r["status"] for r in graph_sends(sim, number_a)] == [400, 400, 200]
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 3 and message.wamid


@pytest.mark.parametrize("rule", [{"status": 503}, {"error_code": 131057}, {"error_code": 131000}, {"status": 429}])
def test_server_errors_and_upgrades_are_retried(sim, tenant_a, in_tenant, number_a, open_window_a, rule):
    fault(sim, path_contains="/messages", times=1, **rule)
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
    drain(tenant_a)
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2
    assert len(graph_sends(sim, number_a)) == 2


def test_retries_are_bounded_then_the_message_fails_with_the_reason(sim, tenant_a, in_tenant, number_a, open_window_a, settings):
    settings.SEND_MAX_ATTEMPTS = 3
    fault(sim, path_contains="/messages", error_code=130429)
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
    drain(tenant_a)
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert message.status == "failed" and message.failed_at is not None
    assert message.error_code == 130429
    assert message.error_title.startswith("Gave up after 3 attempts")
    assert len(graph_sends(sim, number_a)) == 3


@pytest.mark.parametrize("code", [131026, 132000, 131047, 131009, 10])
def test_a_permanent_error_fails_at_once_after_exactly_one_request(sim, tenant_a, in_tenant, number_a, open_window_a, code):
    fault(sim, path_contains="/messages", error_code=code, message="Meta says no")
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
    drain(tenant_a)
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert message.status == "failed"
    assert message.error_code == code
    assert message.error_title  # Meta's title for the code
    assert message.error_details == "Meta says no"
    assert message.attempts == 1
    assert len(graph_sends(sim, number_a)) == 1


def test_meta_error_details_are_stored(sim, tenant_a, in_tenant, number_a, template_a):
    """The simulator's own template check: a parameter count Meta disagrees with (132000)."""
    with in_tenant(tenant_a):
        message = message_send(
            phone_number_id=number_a.phone_number_id,
            to="+4915112345678",
            content={"type": "template", "template": {"name": template_a.name, "language": "en_US", "body_parameters": ["a", "b"]}},
        ).message
    sim.seed({"templates": [{"waba_id": number_a.account.waba_id, "name": template_a.name, "language": "en_US", "body": "Just {{1}}"}]})
    drain(tenant_a)
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert message.status == "failed" and message.error_code == 132000
    assert "does not match the expected number of params" in message.error_title


def test_a_token_error_stops_the_account_and_its_messages_wait(sim, tenant_a, in_tenant, number_a, open_window_a, settings):
    settings.PAIR_RATE_BURST = 10  # both tries of both messages go to one recipient at once
    sim.seed({"tokens": [{"token": number_a.account.access_token.reveal(), "valid": False}]})
    with in_tenant(tenant_a):
        first = queue_text(number_a, open_window_a.contact.wa_id, "one")
        second = queue_text(number_a, open_window_a.contact.wa_id, "two")

    drain(tenant_a, max_seconds=1.5)

    requests = graph_sends(sim, number_a)
    assert 1 <= len(requests) <= 2  # what was already in flight; no retry storm after that
    assert all(r["status"] == 401 for r in requests)
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get(pk=number_a.account_id)
        assert account.status == "unhealthy"
        assert account.status_error_code == 190 and "access token" in account.status_reason
        for message in Message.objects.filter(pk__in=[first.pk, second.pk]):
            assert message.status == "queued"  # visible, waiting, not failed
            assert message.attempts == 0
        assert Message.objects.get(pk=first.pk).error_code in (190, None)

        # A new token and an active account: the waiting messages go out.
        sim.seed({"tokens": [{"token": number_a.account.access_token.reveal(), "valid": True}]})
        WhatsAppAccount.objects.filter(pk=number_a.account_id).update(status="active", status_reason="")
    drain(tenant_a)
    with in_tenant(tenant_a):
        assert set(Message.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"sent"}


def test_an_unknown_outcome_is_reconciled_from_status_webhooks_not_sent_twice(
    sim, tenant_a, in_tenant, number_a, open_window_a, settings
):
    """The request times out after it reached Meta; the status webhook carrying our id settles it.

    The grace period is long here and ended by hand, so a busy machine cannot make the worker
    reconcile before the status has arrived."""
    settings.SEND_RECONCILE_GRACE_S = 60
    fault(sim, path_contains="/messages", latency_ms=1500, times=1)  # the client gives up after 1 s
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)

    for _ in range(40):
        drain(tenant_a, max_seconds=0.5)
        with in_tenant(tenant_a):
            message.refresh_from_db()
        if message.error_title:
            break
    assert message.status == "sending" and message.wamid is None
    assert message.error_title.startswith("Outcome unknown")

    with in_tenant(tenant_a):
        for _ in range(100):  # the simulator accepts it once its latency has passed
            status_webhooks_deliver(sim)
            if StatusEvent.objects.filter(biz_opaque_callback_data=str(message.pk)).exists():
                break
            time.sleep(0.1)
        assert StatusEvent.objects.filter(biz_opaque_callback_data=str(message.pk)).exists()
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())  # the grace period ends

    drain(tenant_a, max_seconds=5)

    assert len(graph_sends(sim, number_a)) == 1
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert message.status in ("sent", "delivered", "read")
    accepted = [r for r in sim.webhooks(limit=0, field_name="messages")]
    assert message.wamid and message.wamid in str(accepted[0]["payload"])


def test_a_lapsed_claim_without_any_status_is_sent_again_once(sim, tenant_a, in_tenant, number_a, open_window_a):
    """A worker died before its request left: no status ever names the message, so it goes again."""
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
        Message.objects.filter(pk=message.pk).update(
            status="sending", attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
    drain(tenant_a)
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2
    assert len(graph_sends(sim, number_a)) == 1


@pytest.fixture
def pacing_log(caplog):
    """The worker's pacing decisions (slot per send, on the limiter's clock), captured."""
    caplog.set_level(logging.DEBUG, logger=PACING_LOGGER)
    return caplog


def test_the_pair_rate_spaces_messages_to_one_recipient(sim, tenant_a, in_tenant, number_a, open_window_a, settings, pacing_log):
    settings.PAIR_RATE_INTERVAL_S = 0.6
    settings.PAIR_RATE_BURST = 2
    settings.SEND_RESERVE_HORIZON_S = 0.05
    # Throughput is not this test's subject: a wide lateness budget means a loaded machine does not
    # hand sends back (that path has its own test below).
    settings.SEND_THROUGHPUT_HEADROOM = 0.5
    with in_tenant(tenant_a):
        ids = [queue_text(number_a, open_window_a.contact.wa_id, body).pk for body in ("one", "two", "three")]
    drain(tenant_a)
    assert sorted(r["body"]["text"]["body"] for r in graph_sends(sim, number_a)) == ["one", "three", "two"]
    slots = {send.message_id: send.slot for send in caplog_paced_sends(pacing_log)}
    one, two, three = (slots[pk] for pk in ids)
    assert one < two < three  # queued order (two requests in flight at once may reach Meta in either)
    assert two - one < 0.3  # the burst
    # Then one per interval: the third's turn comes one interval after the burst's reservation, and
    # a slot sits at most half the reserve horizon after the reservation that allowed it.
    assert three - one >= 0.6 - 0.05 / 2
    with in_tenant(tenant_a):
        assert set(Message.objects.values_list("attempts", flat=True)) == {1}  # waiting used none


def test_a_send_handed_back_unsent_gives_its_recipient_pair_unit_back(sim, tenant_a, in_tenant, number_a, open_window_a, settings):
    """A send given up for lateness must not hold its recipient's next try back by a pair interval."""
    settings.PAIR_RATE_INTERVAL_S = 60
    settings.PAIR_RATE_BURST = 1
    settings.SEND_THROUGHPUT_HEADROOM = 1.0  # no lateness budget at all: every send is handed back
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
    drain(tenant_a, max_seconds=0.5)

    assert graph_sends(sim, number_a) == []
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 0)
    assert message.next_attempt_at < timezone.now() + timedelta(seconds=5)  # due again, not in a minute
    grant = rate_limiter().reserve(
        key=pair_key(number_a.phone_number_id, open_window_a.contact.wa_id),
        count=1, interval_s=60, burst=1, horizon_s=0,
    )
    assert grant.granted == 1  # the unit is still there


def test_a_number_never_exceeds_its_throughput(sim, tenant_a, in_tenant, settings, pacing_log):
    # This test is about pacing: with fast_retries' 1 s Graph timeout a slow answer on a loaded machine
    # becomes an unknown outcome that is (rightly) resent after 0.5 s, which is a different test's subject.
    settings.GRAPH_API_TIMEOUT_S = 10
    settings.SEND_RECONCILE_GRACE_S = 60
    with in_tenant(tenant_a):
        number = PhoneNumberFactory(throughput_mps=25)
        windows = [ConversationFactory(phone_number=number) for _ in range(60)]
    simulator_seed_for(sim, number)
    with in_tenant(tenant_a):
        ids = [queue_text(number, window.contact.wa_id).pk for window in windows]
    drain(tenant_a)

    assert sorted(r["body"]["biz_opaque_callback_data"] for r in graph_sends(sim, number)) == sorted(map(str, ids))
    sends = [send for send in caplog_paced_sends(pacing_log) if send.phone_number_id == number.phone_number_id]
    assert sorted(send.message_id for send in sends) == sorted(ids)
    # The limiter's decisions: slots one paced interval apart, so no second holds more than 25.
    interval = 1 / (25 * django_settings.SEND_THROUGHPUT_HEADROOM)
    gaps = [b.slot - a.slot for a, b in itertools.pairwise(sends)]
    assert min(gaps) >= interval - 5e-6, [(round(s.slot-sends[0].slot,4), s.message_id, round(s.late_s,4)) for s in sends]
    assert max_in_window((send.slot for send in sends), 1.0) <= 25
    # And each send left within the lateness budget of its slot.
    assert max(send.late_s for send in sends) <= max_lateness_s()


def test_an_account_without_a_token_keeps_its_messages_queued(sim, tenant_a, in_tenant, number_a, open_window_a):
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
        WhatsAppAccount.objects.filter(pk=number_a.account_id).update(access_token=None)
    drain(tenant_a, max_seconds=0.5)
    assert graph_sends(sim, number_a) == []
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert message.status == "queued" and message.attempts == 0


# --- suspended and deleted tenants --------------------------------------------------------------------


def test_suspending_holds_a_queue_a_notification_or_a_sweep_had_made_due_and_resuming_releases_it(
    sim, tenant_a, in_tenant, number_a, open_window_a
):
    from tenants.services import tenant_resume, tenant_suspend

    with in_tenant(tenant_a):
        messages = [queue_text(number_a, open_window_a.contact.wa_id, f"broadcast {n}") for n in range(3)]
    worker = SendWorker(threads=2, name="test-worker")
    worker._sweep()  # alpha is active: due now
    worker.wake_for(tenant_a.schema_name)  # and its enqueue notified the workers

    tenant_suspend(tenant=tenant_a, reason="unpaid")
    worker.run(max_seconds=5, until_idle=True, listen=False)

    assert graph_sends(sim, number_a) == []
    with in_tenant(tenant_a):
        held = list(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", "attempts"))
    assert held == [("queued", 0)] * 3  # waiting, not failed, no attempt used

    tenant_resume(tenant=tenant_a)
    drain(tenant_a)

    assert len(graph_sends(sim, number_a)) == 3
    with in_tenant(tenant_a):
        assert set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True)) == {"sent"}


def test_jobs_waiting_for_their_slot_are_handed_back_when_their_tenant_stops():
    from sending.dispatcher import SendDispatcher, SendJob

    dispatcher = SendDispatcher(threads=1, name="test", results_ready=lambda: None, flush_at=10)
    try:
        later = time.monotonic() + 3600
        jobs = [SendJob(at=later, slot_at=0.0, schema=schema, message_id=n, attempts=1, account_id=1,
                        phone_number_id="1", payload={}, client=None) for n, schema in enumerate(["t_a", "t_b"])]
        dispatcher.schedule(jobs)

        dispatcher.schema_stop("t_a")

        assert dispatcher.take() == ([], [jobs[0]])
        assert dispatcher.pending() == 1
    finally:
        dispatcher.close()


def test_messages_to_one_recipient_leave_in_slot_order_even_on_many_threads(settings):
    """A slow send to one recipient holds back the next one to the same recipient (not another's).
    (One held back past the allowed lateness is handed back for a new slot, after its predecessor.)"""
    settings.SEND_THROUGHPUT_HEADROOM = 0.25  # a job may leave up to 1 s after its slot
    import threading

    from sending.dispatcher import SendDispatcher, SendJob

    events: list[str] = []
    lock = threading.Lock()

    class SlowFirstClient:
        def send_message(self, phone_number_id, payload):
            body = payload["text"]["body"]
            with lock:
                events.append(f"start {body}")
            if body == "greeting":
                time.sleep(0.15)
            with lock:
                events.append(f"end {body}")
            return {"messages": [{"id": f"wamid.{body}"}]}

    dispatcher = SendDispatcher(threads=4, name="test", results_ready=lambda: None, flush_at=10)
    try:
        now = time.monotonic()
        jobs = [
            SendJob(at=now + 0.05 + 0.001 * n, slot_at=0.0, schema="t_a", message_id=n, attempts=1, account_id=1,
                    phone_number_id="1", payload={"to": to, "type": "text", "text": {"body": body}},
                    client=SlowFirstClient())
            for n, (to, body) in enumerate([("491", "greeting"), ("491", "menu"), ("492", "other")])
        ]
        dispatcher.schedule(jobs)
        deadline = time.monotonic() + 10
        results: list = []
        while len(results) < 3 and time.monotonic() < deadline:
            taken, handed_back = dispatcher.take()
            assert handed_back == []
            results.extend(taken)
            time.sleep(0.01)
    finally:
        dispatcher.close()

    assert sorted(result.wamid for result in results) == ["wamid.greeting", "wamid.menu", "wamid.other"]
    assert events.index("end greeting") < events.index("start menu")
    assert events.index("end other") < events.index("end greeting")  # another recipient did not wait
    assert dispatcher.pending() == 0


def test_closing_the_dispatcher_waits_for_sends_in_flight_and_returns_the_jobs_never_sent():
    import threading

    from sending.dispatcher import SendDispatcher, SendJob

    started, release = threading.Event(), threading.Event()

    class HeldClient:
        def send_message(self, phone_number_id, payload):
            started.set()
            release.wait(10)
            return {"messages": [{"id": "wamid.held"}]}

    dispatcher = SendDispatcher(threads=3, name="test", results_ready=lambda: None, flush_at=10)
    now = time.monotonic()
    in_flight, later = (
        SendJob(at=at, slot_at=0.0, schema="t_a", message_id=n, attempts=1, account_id=1, phone_number_id="1",
                payload={"to": str(n)}, client=HeldClient())
        for n, at in enumerate([now, now + 3600])
    )
    dispatcher.schedule([in_flight, later])
    assert started.wait(10)
    closed: list = []
    closing = threading.Thread(target=lambda: closed.append(dispatcher.close()))
    closing.start()
    closing.join(0.2)
    assert closing.is_alive()  # still waiting for the send in flight

    release.set()
    closing.join(10)

    assert closed == [[later]]
    results, handed_back = dispatcher.take()
    assert [result.wamid for result in results] == ["wamid.held"] and handed_back == []


def test_a_deleted_tenants_schema_leaves_the_send_loop_quietly(tenant_a, caplog):
    from tenants.services import tenant_create, tenant_delete

    gone = tenant_create(slug="gone-soon", name="Deleted while sending").tenant
    worker = SendWorker(threads=1, name="test-worker")
    worker._sweep()
    assert gone.schema_name in worker._due

    tenant_delete(tenant=gone, confirm="gone-soon")
    worker.run(max_seconds=3, until_idle=True, listen=False)

    assert gone.schema_name not in worker._due
    assert not [r for r in caplog.records if r.name == "sending.worker" and r.levelno >= logging.ERROR]


def test_a_schema_whose_cycle_fails_because_its_tenant_is_gone_is_dropped(tenant_a, monkeypatch, caplog):
    from django.db import ProgrammingError

    worker = SendWorker(threads=1, name="test-worker")
    worker._sweep()
    worker._due["t_dropped_meanwhile"] = 0.0
    worker._active.add("t_dropped_meanwhile")  # active at the last sweep, deleted since

    def cycle(schema):
        if schema == "t_dropped_meanwhile":
            raise ProgrammingError('relation "waba_phonenumber" does not exist')
        return None

    monkeypatch.setattr(worker, "_cycle", cycle)
    worker._cycle_due_tenants()

    assert "t_dropped_meanwhile" not in worker._due
    assert not [r for r in caplog.records if r.name == "sending.worker" and r.levelno >= logging.ERROR]
    assert any("t_dropped_meanwhile" in r.getMessage() for r in caplog.records if r.name == "sending.worker")


# --- sends whose slot passed ----------------------------------------------------------------------


def _late_jobs(schema, count, *, interval_s, account_id=1, reslots=0):
    from sending.dispatcher import SendJob

    return [
        SendJob(at=time.monotonic() - 1.0, slot_at=0.0, schema=schema, message_id=n, attempts=1, account_id=account_id,
                phone_number_id="15550001111", payload={}, client=None, interval_s=interval_s, reslots=reslots)
        for n in range(count)
    ]


def test_a_job_whose_slot_passed_takes_the_numbers_next_free_slots_from_the_limiter(db):
    from sending.worker import throughput_key

    worker = SendWorker(threads=1, name="test-worker")
    try:
        worker._active = {"t_a"}
        interval = 0.01
        # Another worker booked the number meanwhile: the late jobs must come after its slots.
        other = rate_limiter().reserve(
            key=throughput_key("15550001111"), count=5, interval_s=interval, burst=1, horizon_s=1.0
        )
        jobs = _late_jobs("t_a", 3, interval_s=interval)

        left = worker._reslot(jobs)

        assert left == []
        with worker.dispatcher._cond:
            rescheduled = sorted((job for _, _, job in worker.dispatcher._heap), key=lambda job: job.slot_at)
        assert [job.message_id for job in rescheduled] == [0, 1, 2]  # their order kept
        assert [job.reslots for job in rescheduled] == [1, 1, 1]
        assert rescheduled[0].slot_at >= other.slot_at(4) + interval - 1e-6
        gaps = [b.slot_at - a.slot_at for a, b in itertools.pairwise(rescheduled)]
        assert min(gaps) >= interval - 1e-6
    finally:
        worker.dispatcher.close()


def test_a_late_job_of_a_stopped_account_or_tenant_or_late_too_often_goes_back_to_the_queue(db):
    from sending.worker import MAX_RESLOTS

    worker = SendWorker(threads=1, name="test-worker")
    try:
        worker._active = {"t_a"}
        worker._stopped_accounts = {("t_a", 7)}
        stopped_account = _late_jobs("t_a", 1, interval_s=0.01, account_id=7)
        stopped_tenant = _late_jobs("t_gone", 1, interval_s=0.01)
        too_often = _late_jobs("t_a", 1, interval_s=0.01, reslots=MAX_RESLOTS)

        left = worker._reslot(stopped_account + stopped_tenant + too_often)

        assert left == stopped_account + stopped_tenant + too_often
        assert worker.dispatcher.pending() == 0
    finally:
        worker.dispatcher.close()


def test_a_send_whose_slot_passed_keeps_its_claim_and_goes_out_once(sim, tenant_a, in_tenant, number_a, open_window_a, monkeypatch):
    """A sending thread that reaches a job after its slot (a busy machine) must not lose the
    message its claim: it takes a new slot and is sent, never handed back to the queue."""
    from sending import outbox
    from sending.dispatcher import SendDispatcher

    original = SendDispatcher._send_one
    delayed: list[int] = []

    def first_one_late(self, job):
        if not delayed:
            delayed.append(job.message_id)
            job = replace(job, at=job.at - 1.0)  # its thread got to it a second after its slot
        original(self, job)

    monkeypatch.setattr(SendDispatcher, "_send_one", first_one_late)
    released: list[int] = []
    real_release = outbox.outbox_release
    monkeypatch.setattr(outbox, "outbox_release", lambda **kw: (released.extend(kw["message_ids"]), real_release(**kw)))
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id, "late but sent")

    drain(tenant_a)

    assert delayed == [message.pk]
    assert released == []
    assert [r["body"]["biz_opaque_callback_data"] for r in graph_sends(sim, number_a)] == [str(message.pk)]
    with in_tenant(tenant_a):
        message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
