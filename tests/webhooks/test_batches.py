"""Status webhooks processed in batches: the same rows as one by one, in a bounded number of statements.

The worker applies entries that carry only status updates together, a tenant at a time; every
other entry, and every entry of a tenant whose batch fails, goes the one-by-one way.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.models import Message, StatusEvent, WebhookEventLogEntry
from messaging.statuses import message_status_apply, message_statuses_apply
from tests.fixtures import load_webhook_fixture_bytes
from tests.messaging.factories import (
    FIXTURE_PHONE_ID,
    FIXTURE_WABA_ID,
    SECOND_PHONE_ID,
    SECOND_WABA_ID,
    ConversationFactory,
    MessageFactory,
)
from tests.webhooks.conftest import APP_ID
from waba.webhook_events import StatusUpdate
from webhooks import processing
from webhooks.journal import journal_entries_claim, journal_entry_record
from webhooks.models import WebhookJournalEntry
from webhooks.processing import journal_entry_process
from webhooks.tasks import journal_entries_work

State = WebhookJournalEntry.State
T0 = 1_750_263_700
PRICING = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
CONVERSATION = {"id": "c0nv", "expiration_timestamp": "1750350173", "origin": {"type": "marketing"}}
ERROR = {"code": 131026, "title": "Message undeliverable", "error_data": {"details": "Undeliverable."}}
MESSAGE_FIELDS = (
    "status",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
    "error_code",
    "error_title",
    "error_details",
    "conversation_info",
    "pricing",
    "pricing_category",
)


def _status(wamid: str, status: str, at: int, **extra) -> dict:
    return {"id": wamid, "status": status, "timestamp": str(T0 + at), "recipient_id": "16315551181", **extra}


def _body(*statuses: dict, phone_number_id: str = FIXTURE_PHONE_ID, waba_id: str = FIXTURE_WABA_ID) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": waba_id,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "statuses": list(statuses),
                                "metadata": {
                                    "display_phone_number": "15550783881",
                                    "phone_number_id": phone_number_id,
                                },
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def _record(*bodies: bytes) -> list[int]:
    return [journal_entry_record(app_id=APP_ID, body=body, signature_verified=True) for body in bodies]


def _work(limit: int = 100) -> list[int]:
    """One worker's batch: claim what is claimable, process it; returns the claimed ids."""
    entry_ids = journal_entries_claim(limit=limit, worker="w")
    journal_entries_work(entry_ids=entry_ids, worker="w", should_stop=lambda: False)
    return entry_ids


def _outbound(number, wamid: str | None, status: str = Message.Status.SENDING, **fields):
    return MessageFactory(
        conversation=ConversationFactory(phone_number=number),
        direction=Message.Direction.OUTBOUND,
        wamid=wamid,
        status=status,
        type="template",
        **fields,
    )


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


def _outcomes(entry_ids: list[int]) -> list[dict | None]:
    by_id = dict(WebhookJournalEntry.objects.filter(id__in=entry_ids).values_list("id", "outcome"))
    return [by_id[entry_id] for entry_id in entry_ids]


def _states(entry_ids: list[int]) -> list[str]:
    by_id = dict(WebhookJournalEntry.objects.filter(id__in=entry_ids).values_list("id", "state"))
    return [by_id[entry_id] for entry_id in entry_ids]


def _scenario(prefix: str) -> list[bytes]:
    """Every rule at once: out of order, duplicates, failures, billing data, early statuses, callback data."""
    w = [f"wamid.{prefix}-{n}" for n in range(7)]
    return [
        _body(
            _status(w[0], "read", 30), _status(w[0], "sent", 10, pricing=PRICING, conversation=CONVERSATION)
        ),
        _body(_status(w[0], "delivered", 20), _status(w[1], "sent", 10)),
        _body(_status(w[1], "failed", 15, errors=[ERROR])),
        _body(_status(w[1], "delivered", 20), _status(w[1], "failed", 15, errors=[ERROR])),  # a duplicate
        _body(_status(w[2], "delivered", 20), _status(w[2], "failed", 25, errors=[ERROR])),  # late failure
        _body(_status(w[3], "sent", 10, conversation=CONVERSATION)),  # category from the origin
        _body(_status(w[4], "delivered", 20)),  # no message yet: waits
        _body(
            _status(w[5], "delivered", 20), _status(w[5], "sent", 10, biz_opaque_callback_data="{callback}")
        ),
        _body(_status(w[6], "sent", 10), _status(w[6], "sent", 10)),  # the same status twice in one change
    ]


def _scenario_messages(prefix: str, number) -> None:
    for n in (0, 1, 2, 3, 6):
        _outbound(number, f"wamid.{prefix}-{n}")


def _rows(prefix: str) -> dict:
    messages = {
        message["wamid"].removeprefix(f"wamid.{prefix}-") if message["wamid"] else None: {
            name: message[name] for name in MESSAGE_FIELDS
        }
        for message in Message.objects.filter(wamid__startswith=f"wamid.{prefix}-").values(
            "wamid", *MESSAGE_FIELDS
        )
    }
    events = sorted(
        (
            event.wamid.removeprefix(f"wamid.{prefix}-"),
            event.status,
            event.timestamp,
            event.applied_at is not None,
            (event.message.wamid or "").removeprefix(f"wamid.{prefix}-") if event.message else None,
            event.pricing,
            event.conversation_info,
            event.errors,
        )
        for event in StatusEvent.objects.filter(wamid__startswith=f"wamid.{prefix}-").select_related(
            "message"
        )
    )
    return {"messages": messages, "events": events}


def test_batched_and_one_by_one_processing_leave_the_same_rows(meta_app, number_a, tenant_a, in_tenant):
    callbacks = {}
    for prefix in ("one", "batch"):
        with in_tenant(tenant_a):
            _scenario_messages(prefix, number_a)
            callbacks[prefix] = _outbound(number_a, None).pk  # named by callback data, no wamid yet
    one_ids = _record(
        *[body.replace(b"{callback}", str(callbacks["one"]).encode()) for body in _scenario("one")]
    )
    for entry_id in one_ids:
        journal_entry_process(entry_id=entry_id)
    batch_ids = _record(
        *[body.replace(b"{callback}", str(callbacks["batch"]).encode()) for body in _scenario("batch")]
    )

    assert _work() == batch_ids

    with in_tenant(tenant_a):
        one, batch = _rows("one"), _rows("batch")
        log_entries = WebhookEventLogEntry.objects.filter(journal_entry_id__in=batch_ids).count()
    assert batch == one
    assert _outcomes(batch_ids) == _outcomes(one_ids)
    assert _states(batch_ids) == [State.PROCESSED] * len(batch_ids)
    assert log_entries == len(batch_ids)
    # The rules, spelled out for the batch.
    messages = batch["messages"]
    assert (
        messages["0"]["status"],
        messages["0"]["sent_at"],
        messages["0"]["delivered_at"],
        messages["0"]["read_at"],
    ) == ("read", _at(10), _at(20), _at(30))
    assert messages["0"]["pricing_category"] == "utility"
    assert (messages["1"]["status"], messages["1"]["failed_at"], messages["1"]["error_code"]) == (
        "delivered",
        _at(15),
        131026,
    )
    assert (messages["2"]["status"], messages["2"]["failed_at"], messages["2"]["error_code"]) == (
        "delivered",
        None,
        None,
    )
    assert messages["3"]["pricing_category"] == "marketing"
    assert messages["5"]["status"] == "delivered"
    assert "4" not in messages
    assert _outcomes(batch_ids)[3] == {"statuses_applied": 1, "statuses_duplicate": 1}
    assert _outcomes(batch_ids)[8] == {"statuses_applied": 1, "statuses_duplicate": 1}


def test_duplicates_in_one_batch_and_across_batches_are_applied_once(meta_app, number_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = _outbound(number_a, "wamid.dup")
    delivered = _body(_status("wamid.dup", "delivered", 20))
    first = _record(
        delivered, delivered, _body(_status("wamid.dup", "sent", 10), _status("wamid.dup", "sent", 10))
    )
    _work()
    with in_tenant(tenant_a):
        message.refresh_from_db()
        updated_at = message.updated_at
    assert _outcomes(first) == [
        {"statuses_applied": 1},
        {"statuses_duplicate": 1},
        {"statuses_recorded": 1, "statuses_duplicate": 1},
    ]

    again = _record(delivered, _body(_status("wamid.dup", "sent", 10)))
    _work()

    assert _outcomes(again) == [{"statuses_duplicate": 1}, {"statuses_duplicate": 1}]
    with in_tenant(tenant_a):
        message.refresh_from_db()
        assert StatusEvent.objects.filter(wamid="wamid.dup").count() == 2
        assert StatusEvent.objects.filter(wamid="wamid.dup", applied_at__isnull=True).count() == 0
    assert message.updated_at == updated_at
    assert (message.status, message.sent_at, message.delivered_at) == ("delivered", _at(10), _at(20))


def test_statuses_never_move_a_message_backwards_within_or_across_batches(
    meta_app, number_a, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        within = _outbound(number_a, "wamid.within")
        across = _outbound(number_a, "wamid.across")
    _record(
        _body(_status("wamid.within", "read", 30)),
        _body(_status("wamid.within", "delivered", 20)),
        _body(_status("wamid.within", "sent", 10)),
        _body(_status("wamid.across", "read", 30)),
    )
    _work()
    [late] = _record(_body(_status("wamid.across", "delivered", 20), _status("wamid.across", "sent", 10)))
    _work()

    with in_tenant(tenant_a):
        within.refresh_from_db()
        across.refresh_from_db()
    for message in (within, across):
        assert (message.status, message.sent_at, message.delivered_at, message.read_at) == (
            "read",
            _at(10),
            _at(20),
            _at(30),
        )
    assert _outcomes([late]) == [{"statuses_recorded": 2}]


def test_early_statuses_wait_then_apply_when_their_message_is_known(meta_app, number_a, tenant_a, in_tenant):
    early = _record(_body(_status("wamid.early", "delivered", 20)), _body(_status("wamid.early", "sent", 10)))
    _work()
    assert _outcomes(early) == [{"statuses_pending": 1}, {"statuses_pending": 1}]
    with in_tenant(tenant_a):
        assert StatusEvent.objects.filter(wamid="wamid.early", applied_at__isnull=True).count() == 2
        message = _outbound(number_a, "wamid.early")  # the send worker recorded the wamid

    [read] = _record(_body(_status("wamid.early", "read", 30)))
    _work()

    with in_tenant(tenant_a):
        message.refresh_from_db()
        events = set(StatusEvent.objects.filter(wamid="wamid.early").values_list("status", "message_id"))
        assert not StatusEvent.objects.filter(wamid="wamid.early", applied_at__isnull=True).exists()
    assert (message.status, message.sent_at, message.delivered_at, message.read_at) == (
        "read",
        _at(10),
        _at(20),
        _at(30),
    )
    assert events == {("sent", message.pk), ("delivered", message.pk), ("read", message.pk)}
    assert _outcomes([read]) == [{"statuses_applied": 1}]


def test_callback_data_names_a_message_without_wamid(meta_app, number_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = _outbound(number_a, None)
        known = _outbound(number_a, "wamid.known")
    callback = str(message.pk)
    entries = _record(
        _body(_status("wamid.cb", "sent", 10, biz_opaque_callback_data=callback)),
        _body(_status("wamid.cb", "delivered", 20)),
        _body(_status("wamid.other", "sent", 10, biz_opaque_callback_data=callback)),  # claimed already
        _body(_status("wamid.stranger", "sent", 10, biz_opaque_callback_data=str(known.pk))),  # has a wamid
    )
    _work()

    with in_tenant(tenant_a):
        message.refresh_from_db()
        known.refresh_from_db()
        assert set(StatusEvent.objects.filter(message=message).values_list("status", flat=True)) == {
            "sent",
            "delivered",
        }
    assert (message.wamid, message.status) == ("wamid.cb", "delivered")
    assert (known.wamid, known.status) == ("wamid.known", "sending")
    assert _outcomes(entries) == [
        {"statuses_applied": 1},
        {"statuses_applied": 1},
        {"statuses_pending": 1},
        {"statuses_pending": 1},
    ]


@pytest.fixture
def two_tenants(meta_app, number_a, number_b, tenant_a, tenant_b, in_tenant):
    """An outbound message in each tenant, and one batch with statuses for both (beta's also names
    alpha's wamid: it must stay in beta's schema)."""
    with in_tenant(tenant_a):
        alpha = _outbound(number_a, "wamid.alpha")
    with in_tenant(tenant_b):
        beta = _outbound(number_b, "wamid.beta")
    entries = _record(
        _body(_status("wamid.alpha", "delivered", 20)),
        _body(
            _status("wamid.beta", "read", 30),
            _status("wamid.alpha", "read", 30),
            phone_number_id=SECOND_PHONE_ID,
            waba_id=SECOND_WABA_ID,
        ),
        _body(_status("wamid.alpha", "sent", 10)),
    )
    return alpha, beta, entries


def test_two_tenants_in_one_batch_each_apply_their_own(two_tenants, tenant_a, tenant_b, in_tenant):
    alpha, beta, entries = two_tenants
    _work()

    with in_tenant(tenant_a):
        alpha.refresh_from_db()
        alpha_events = sorted(StatusEvent.objects.values_list("status", flat=True))
    with in_tenant(tenant_b):
        beta.refresh_from_db()
        beta_events = sorted(StatusEvent.objects.values_list("wamid", "status", "message_id"))
    assert (alpha.status, alpha.read_at) == ("delivered", None)
    assert alpha_events == ["delivered", "sent"]
    assert beta.status == "read"
    assert beta_events == [("wamid.alpha", "read", None), ("wamid.beta", "read", beta.pk)]
    assert _outcomes(entries) == [
        {"statuses_applied": 1},
        {"statuses_applied": 1, "statuses_pending": 1},
        {"statuses_recorded": 1},
    ]


def _raise_in(schema_name: str, real):
    def apply(**kwargs):
        if connection.schema_name == schema_name:
            raise RuntimeError("boom")
        return real(**kwargs)

    return apply


def test_a_failing_tenant_batch_falls_back_to_one_by_one_and_others_still_apply(
    two_tenants, tenant_a, tenant_b, in_tenant, monkeypatch
):
    alpha, beta, entries = two_tenants
    monkeypatch.setattr(
        processing,
        "message_statuses_apply",
        _raise_in(tenant_b.schema_name, processing.message_statuses_apply),
    )

    _work()

    with in_tenant(tenant_a):
        alpha.refresh_from_db()
    with in_tenant(tenant_b):
        beta.refresh_from_db()
    assert alpha.status == "delivered" and alpha.sent_at == _at(10)
    assert beta.status == "read"
    assert _states(entries) == [State.PROCESSED] * 3
    assert _outcomes(entries)[1] == {"statuses_applied": 1, "statuses_pending": 1}
    assert WebhookJournalEntry.objects.get(pk=entries[1]).attempts == 1


def test_a_change_that_fails_one_by_one_too_is_retried_alone(
    two_tenants, tenant_a, tenant_b, in_tenant, monkeypatch
):
    alpha, beta, entries = two_tenants
    monkeypatch.setattr(
        processing,
        "message_statuses_apply",
        _raise_in(tenant_b.schema_name, processing.message_statuses_apply),
    )
    monkeypatch.setattr(
        processing, "message_status_apply", _raise_in(tenant_b.schema_name, processing.message_status_apply)
    )

    _work()

    with in_tenant(tenant_a):
        alpha.refresh_from_db()
    with in_tenant(tenant_b):
        beta.refresh_from_db()
        logged = WebhookEventLogEntry.objects.get(journal_entry_id=entries[1])
    assert alpha.status == "delivered"
    assert beta.status == "sending"
    assert _states(entries) == [State.PROCESSED, State.PENDING, State.PROCESSED]
    failed = WebhookJournalEntry.objects.get(pk=entries[1])
    assert (failed.attempts, failed.last_error) == (1, "RuntimeError: boom")
    assert logged.status == WebhookEventLogEntry.Status.FAILED


class WorkerKilled(BaseException):
    """A worker dying mid-batch: nothing after this runs."""


def test_a_batch_whose_worker_died_is_taken_over_when_its_budget_ends(
    meta_app, number_a, tenant_a, in_tenant, monkeypatch
):
    with in_tenant(tenant_a):
        message = _outbound(number_a, "wamid.killed")
    entries = _record(
        _body(_status("wamid.killed", "sent", 10)), _body(_status("wamid.killed", "delivered", 20))
    )

    def die(**kwargs):
        raise WorkerKilled()

    with monkeypatch.context() as patch:
        patch.setattr(processing, "message_statuses_apply", die)
        with pytest.raises(WorkerKilled):
            _work()
    assert _states(entries) == [State.PROCESSING] * 2
    assert journal_entries_claim(limit=10, worker="other") == []  # its budget still runs
    WebhookJournalEntry.objects.filter(id__in=entries).update(
        available_at=timezone.now() - timedelta(seconds=1)
    )

    _work()

    with in_tenant(tenant_a):
        message.refresh_from_db()
        assert StatusEvent.objects.filter(wamid="wamid.killed").count() == 2
    assert message.status == "delivered"
    assert _states(entries) == [State.PROCESSED] * 2
    assert set(WebhookJournalEntry.objects.filter(id__in=entries).values_list("attempts", flat=True)) == {2}


def test_other_entries_of_the_batch_go_one_by_one(meta_app, number_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = _outbound(number_a, "wamid.mixed")
    entries = _record(
        load_webhook_fixture_bytes("message_text"),
        _body(_status("wamid.mixed", "sent", 10)),
        b"not json",
        _body(_status("wamid.unrouted", "sent", 10), phone_number_id="999"),
    )
    _work()

    with in_tenant(tenant_a):
        message.refresh_from_db()
        assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1
    assert message.status == "sent"
    assert _states(entries) == [State.PROCESSED, State.PROCESSED, State.FAILED, State.PROCESSED]
    assert _outcomes(entries)[3] == {"dead_lettered": 1}


def _statements_for_a_batch(events: int, number, tenant, in_tenant) -> int:
    """Statements the worker makes for `events` status events in events / 2 + 1 entries (half with two
    statuses of a message, the rest one status of a message no one has yet), claim excluded."""
    prefix = f"wamid.bound{events}"
    with in_tenant(tenant):
        for n in range(events // 4):
            _outbound(number, f"{prefix}-{n}")
    bodies = [
        _body(_status(f"{prefix}-{n}", "sent", 10), _status(f"{prefix}-{n}", "delivered", 20))
        for n in range(events // 4)
    ]
    bodies += [_body(_status(f"{prefix}-nobody-{n}", "sent", 10)) for n in range(events - 2 * (events // 4))]
    entries = _record(*bodies)
    claimed = journal_entries_claim(limit=100, worker="w")
    assert claimed == entries

    with CaptureQueriesContext(connection) as queries:
        journal_entries_work(entry_ids=claimed, worker="w", should_stop=lambda: False)

    assert _states(entries) == [State.PROCESSED] * len(entries)
    with in_tenant(tenant):
        assert StatusEvent.objects.filter(wamid__startswith=prefix).count() == events
        assert Message.objects.filter(wamid__startswith=prefix, status="delivered").count() == events // 4
    return len(queries)


def test_a_batch_takes_the_same_small_number_of_statements_whatever_its_size(
    meta_app, number_a, tenant_a, in_tenant
):
    _statements_for_a_batch(4, number_a, tenant_a, in_tenant)  # the Meta app is read once, then cached
    small = _statements_for_a_batch(10, number_a, tenant_a, in_tenant)
    large = _statements_for_a_batch(50, number_a, tenant_a, in_tenant)
    assert small == large
    assert large <= 23


def _random_events(draw: random.Random, prefix: str, wamids: int) -> list[StatusUpdate]:
    events = []
    for _ in range(draw.randint(1, 9)):
        status = draw.choice(["sent", "delivered", "read", "failed", "deleted"])
        events.append(
            StatusUpdate(
                phone_number_id=FIXTURE_PHONE_ID,
                waba_id="",
                wamid=f"wamid.{prefix}-{draw.randrange(wamids)}",
                status=status,
                timestamp=_at(draw.randint(0, 50)),
                recipient_id="16315551181",
                biz_opaque_callback_data=None,
                conversation=draw.choice([None, CONVERSATION, {"id": "x", "origin": {"type": "service"}}]),
                pricing=draw.choice([None, PRICING, {"billable": False, "category": "service"}]),
                errors=[ERROR] if status == "failed" and draw.random() < 0.7 else [],
            )
        )
    return events


@pytest.mark.parametrize("seed", range(12))
def test_the_batched_function_follows_the_same_rules_as_one_by_one(seed, number_a, tenant_a, in_tenant):
    """Random statuses (any order, repeats, failures, unknown statuses, billing data, statuses that wait
    for their message), in several batches."""
    draw = random.Random(seed)
    with in_tenant(tenant_a):
        initial = [draw.choice(["sending", "sent", "failed"]) for _ in range(3)]
        for prefix in ("one", "batch"):
            for n in range(3):  # wamid 3 has no message: its statuses wait
                _outbound(number_a, f"wamid.{prefix}-{n}", status=initial[n])
        for round_ in range(3):
            if round_ == 2:  # the send worker records wamid 3: its waiting statuses apply with the next one
                for prefix in ("one", "batch"):
                    _outbound(number_a, f"wamid.{prefix}-3")
            events = _random_events(draw, "one", 4)
            one = [message_status_apply(event=event) for event in events]
            batch = message_statuses_apply(
                events=[replace(event, wamid=event.wamid.replace("one", "batch")) for event in events]
            )
            assert batch == one
        assert _rows("batch") == _rows("one")
