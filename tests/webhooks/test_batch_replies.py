"""Automated replies to a webhook batch are queued together at its end: the same outbound rows, in the
same order, accepted or refused exactly as when each message is processed on its own.
"""

from __future__ import annotations

import time

from automations import replies
from automations.models import AutomatedReply, AutomationRun, ConversationState
from automations.seeds import builtins_install
from messaging.models import Contact, Conversation, Message
from tests.billing.factories import plan_version, subscribe
from tests.webhooks.test_message_batches import T0, _body, _record, _states, _tap, _text, _wipe, _work
from waba.models import WhatsAppAccount
from webhooks.models import WebhookJournalEntry
from webhooks.processing import journal_entry_process

State = WebhookJournalEntry.State
X, Y, Z = "15557000001", "15557000002", "15557000003"


def _recent(seconds: int) -> int:
    """An offset from the fixtures' T0 that lands `seconds` after ten minutes ago: inside the 24-hour window."""
    return int(time.time()) - 600 - T0 + seconds


def _conversation_bodies() -> list[bytes]:
    """Three customers; X and Y each say Hi and tap Place Order in the same batch, Z only says Hi."""
    return [
        _body(_text("wamid.r-1", X, _recent(1), body="Hi"), _text("wamid.r-2", Y, _recent(2), body="Hi")),
        _body(_tap("wamid.r-3", X, _recent(3), "place_order", "Place Order"),
              _text("wamid.r-4", Z, _recent(4), body="Hi")),
        _body(_tap("wamid.r-5", Y, _recent(5), "place_order", "Place Order")),
    ]


def _outbound_rows() -> dict[str, list[tuple]]:
    """Each contact's outbound messages in the order the send worker claims them, every column that
    does not name a row id or a time; ids stand as what they point at."""
    wamid_of = dict(Message.objects.filter(direction=Message.Direction.INBOUND).values_list("pk", "wamid"))
    rows: dict[str, list[tuple]] = {}
    ids: dict[str, list[int]] = {}
    outbound = (
        Message.objects.filter(direction=Message.Direction.OUTBOUND)
        .select_related("contact", "conversation__contact")
        .order_by("next_attempt_at", "id")
    )
    for message in outbound:
        payload = dict(message.request_payload or {})
        assert payload.pop("biz_opaque_callback_data") == str(message.pk)
        _, inbound_pk, position = str(message.idempotency_key).split(":")
        assert message.conversation.contact_id == message.contact_id
        assert message.conversation.phone_number_id == message.phone_number_id
        rows.setdefault(message.contact.wa_id, []).append((
            message.type, message.content, message.body, message.status, payload, message.template_id,
            f"menus:{wamid_of[int(inbound_pk)]}:{position}", message.error_reason,
        ))
        ids.setdefault(message.contact.wa_id, []).append(message.pk)
    assert all(pks == sorted(pks) for pks in ids.values())  # the inbox's order (by id) is the send order
    return rows


def _reply_records() -> list[tuple]:
    return sorted(
        AutomatedReply.objects.values_list(
            "inbound_message__wamid", "outbound_message__body", "outbound_message__status", "purpose",
            "workflow_name", "step", "error_code",
        )
    )


def _counts() -> list[tuple]:
    return sorted(Conversation.objects.values_list("contact__wa_id", "message_count"))


def _wipe_all() -> None:
    AutomatedReply.objects.all().delete()
    AutomationRun.objects.all().delete()
    ConversationState.objects.all().delete()
    _wipe()


def test_a_batch_queues_the_rows_one_by_one_processing_queues_in_the_same_order(
    meta_app, number_a, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        builtins_install()
    for entry_id in _record(*_conversation_bodies()):
        journal_entry_process(entry_id=entry_id)
    with in_tenant(tenant_a):
        one = (_outbound_rows(), _reply_records(), _counts())
        _wipe_all()

    entries = _record(*_conversation_bodies())
    assert _work() == entries

    assert _states(entries) == [State.PROCESSED] * 3
    with in_tenant(tenant_a):
        batch = (_outbound_rows(), _reply_records(), _counts())
    assert batch == one
    outbound, records, _ = batch
    assert {wa_id: len(rows) for wa_id, rows in outbound.items()} == {X: 2, Y: 2, Z: 1}
    assert {row[3] for rows in outbound.values() for row in rows} == {Message.Status.QUEUED}
    assert [row[6] for row in outbound[X]] == ["menus:wamid.r-1:0", "menus:wamid.r-3:0"]
    assert len(records) == 5


def test_the_quota_lets_through_the_first_replies_of_a_batch_and_refuses_the_rest(
    meta_app, number_a, tenant_a, in_tenant
):
    """Asked for all five replies at once, the quota refuses; each is then asked for alone, in order."""
    with in_tenant(tenant_a):
        builtins_install()
        WhatsAppAccount.objects.filter(pk=number_a.account_id).update(rate_limit_per_day=3)
    customers = [f"1555710000{n}" for n in range(5)]
    _record(_body(*(_text(f"wamid.q-{n}", wa_id, _recent(n), body="Hi") for n, wa_id in enumerate(customers))))
    _work()

    answered = _answered(in_tenant, tenant_a)
    with in_tenant(tenant_a):
        refused = Message.objects.filter(direction=Message.Direction.OUTBOUND, status=Message.Status.FAILED)
        assert set(refused.values_list("error_reason", flat=True)) == {"quota_exceeded"}
    assert answered == [
        ("wamid.q-0", Message.Status.QUEUED, ""),
        ("wamid.q-1", Message.Status.QUEUED, ""),
        ("wamid.q-2", Message.Status.QUEUED, ""),
        ("wamid.q-3", Message.Status.FAILED, "quota_exceeded"),
        ("wamid.q-4", Message.Status.FAILED, "quota_exceeded"),
    ]


def test_the_plan_allowance_lets_through_the_first_replies_of_a_batch_and_refuses_the_rest(
    meta_app, number_a, tenant_a, in_tenant
):
    subscribe(tenant_a, plan_version(included_messages={"service": 2}))
    with in_tenant(tenant_a):
        builtins_install()
    customers = [f"1555720000{n}" for n in range(4)]
    _record(_body(*(_text(f"wamid.p-{n}", wa_id, _recent(n), body="Hi") for n, wa_id in enumerate(customers))))
    _work()

    assert _answered(in_tenant, tenant_a) == [
        ("wamid.p-0", Message.Status.QUEUED, ""),
        ("wamid.p-1", Message.Status.QUEUED, ""),
        ("wamid.p-2", Message.Status.FAILED, "plan_limit_reached"),
        ("wamid.p-3", Message.Status.FAILED, "plan_limit_reached"),
    ]


def test_a_blocked_contact_and_a_closed_window_in_a_batch_are_refused_as_one_by_one(
    meta_app, number_a, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        builtins_install()
        Contact.objects.create(wa_id=Y, blocked=True)
    _record(_body(
        _text("wamid.c-1", X, _recent(1), body="Hi"),
        _text("wamid.c-2", Y, _recent(2), body="Hi"),
        _text("wamid.c-3", Z, -3 * 86400, body="Hi"),  # delivered days late: its window is closed
    ))
    _work()

    assert _answered(in_tenant, tenant_a) == [
        ("wamid.c-1", Message.Status.QUEUED, ""),
        ("wamid.c-2", Message.Status.FAILED, "contact_blocked"),
        ("wamid.c-3", Message.Status.FAILED, "outside_service_window"),
    ]


def test_a_failing_automation_in_a_batch_loses_only_its_own_replies(
    meta_app, number_a, tenant_a, in_tenant, monkeypatch
):
    """The engine asks for a reply, then fails for one message: that message's handling is rolled
    back with the reply it asked for; the batch's other messages are answered once each."""
    real_reply_send = replies.reply_send

    def reply_then_fail_on_f2(*, message, **kwargs):
        record = real_reply_send(message=message, **kwargs)
        if message.wamid == "wamid.f-2":
            raise RuntimeError("the engine breaks after asking for this reply")
        return record

    monkeypatch.setattr(replies, "reply_send", reply_then_fail_on_f2)
    with in_tenant(tenant_a):
        builtins_install()
    entries = _record(_body(*(_text(f"wamid.f-{n}", f"1555730000{n}", _recent(n), body="Hi") for n in (1, 2, 3))))
    _work()

    assert _states(entries) == [State.PROCESSED]
    with in_tenant(tenant_a):
        queued = sorted(
            Message.objects.filter(direction=Message.Direction.OUTBOUND).values_list("contact__wa_id", "status")
        )
        records = sorted(AutomatedReply.objects.values_list("inbound_message__wamid", flat=True))
        runs = sorted(AutomationRun.objects.values_list("message__wamid", flat=True))
    assert queued == [("15557300001", Message.Status.QUEUED), ("15557300003", Message.Status.QUEUED)]
    assert records == ["wamid.f-1", "wamid.f-3"]
    assert runs == ["wamid.f-1", "wamid.f-3"]


def _answered(in_tenant, tenant) -> list[tuple[str | None, str, str]]:
    """Each automated reply's inbound message, outbound status and refusal code, in inbound order."""
    with in_tenant(tenant):
        return list(
            AutomatedReply.objects.order_by("inbound_message_id")
            .values_list("inbound_message__wamid", "outbound_message__status", "error_code")
        )
