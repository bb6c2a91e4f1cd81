"""Status webhooks applied to outbound messages: idempotent, never backwards, early ones kept for later."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest

from messaging.models import Message, StatusEvent
from messaging.statuses import StatusOutcome, message_status_apply, pending_statuses_apply
from tests.fixtures import load_webhook_fixture, load_webhook_fixture_bytes
from tests.messaging.factories import ConversationFactory, MessageFactory
from tests.webhooks.conftest import process_journal
from waba.webhook_events import StatusUpdate, parse_envelope

WAMID = "wamid.HBgLMTYzMTU1NTExODEVAgASGBQyQzlBRTBCNEYxRDdFNUEzQjhDMQA="  # status_sent/delivered/read
FAILED_WAMID = "wamid.HBgLMTYzMTU1NTExODEVAgASGBQ2QjhEMEYyQTRDNkU4QTBCMkQ0RgA="


def _at(unix: str) -> datetime:
    return datetime.fromtimestamp(int(unix), tz=UTC)


def _status_event(fixture: str, **changes) -> StatusUpdate:
    payload = load_webhook_fixture(fixture)
    payload["entry"][0]["changes"][0]["value"]["statuses"][0].update(changes)
    [event] = parse_envelope(payload)
    assert isinstance(event, StatusUpdate)
    return event


@pytest.fixture
def outbound_a(number_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        conversation = ConversationFactory(phone_number=number_a)
        return MessageFactory(conversation=conversation, direction=Message.Direction.OUTBOUND, wamid=WAMID,
                              status=Message.Status.SENDING, type="template")


def test_sent_delivered_read_through_the_endpoint(webhook, outbound_a, tenant_a, in_tenant):
    for fixture in ("status_sent", "status_delivered", "status_read"):
        assert webhook.post(load_webhook_fixture_bytes(fixture)).status_code == 200
    process_journal()

    with in_tenant(tenant_a):
        message = Message.objects.get(pk=outbound_a.pk)
        events = list(StatusEvent.objects.order_by("timestamp").values_list("status", "message_id"))
    assert message.status == Message.Status.READ
    assert message.sent_at == _at("1750263773")
    assert message.delivered_at == _at("1750263775")
    assert message.read_at == _at("1750263868")
    assert message.pricing == {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
    assert message.pricing_category == "utility"
    assert message.conversation_info["id"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert events == [("sent", outbound_a.pk), ("delivered", outbound_a.pk), ("read", outbound_a.pk)]


@pytest.mark.parametrize("order", list(itertools.permutations(["status_sent", "status_delivered", "status_read"])))
def test_any_arrival_order_ends_read_with_every_timestamp(order, outbound_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        for fixture in order:
            message_status_apply(event=_status_event(fixture))
        message = Message.objects.get(pk=outbound_a.pk)
    assert message.status == Message.Status.READ
    assert (message.sent_at, message.delivered_at, message.read_at) == (
        _at("1750263773"), _at("1750263775"), _at("1750263868"))


def test_the_same_status_twice_changes_nothing(outbound_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        assert message_status_apply(event=_status_event("status_delivered")) == StatusOutcome.APPLIED
        before = Message.objects.get(pk=outbound_a.pk).updated_at
        assert message_status_apply(event=_status_event("status_delivered")) == StatusOutcome.DUPLICATE
        assert Message.objects.get(pk=outbound_a.pk).updated_at == before
        assert StatusEvent.objects.count() == 1


def test_a_late_status_is_recorded_but_does_not_move_backwards(outbound_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message_status_apply(event=_status_event("status_read"))
        assert message_status_apply(event=_status_event("status_delivered")) == StatusOutcome.RECORDED
        message = Message.objects.get(pk=outbound_a.pk)
        assert message.status == Message.Status.READ
        assert message.delivered_at == _at("1750263775")
        assert StatusEvent.objects.filter(applied_at__isnull=False).count() == 2


def test_failed_is_recorded_with_code_title_and_details(webhook, number_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = MessageFactory(conversation=ConversationFactory(phone_number=number_a), wamid=FAILED_WAMID,
                                 direction=Message.Direction.OUTBOUND, status=Message.Status.SENT)
    webhook.post(load_webhook_fixture_bytes("status_failed"))
    process_journal()

    with in_tenant(tenant_a):
        message.refresh_from_db()
        event = StatusEvent.objects.get()
    assert message.status == Message.Status.FAILED
    assert message.failed_at == _at("1750263778")
    assert (message.error_code, message.error_title, message.error_details) == (
        131026, "Message undeliverable", "Message Undeliverable.")
    assert event.errors[0]["code"] == 131026


def test_a_failure_whose_texts_hold_a_nul_is_recorded_with_the_nul_replaced(webhook, number_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = MessageFactory(conversation=ConversationFactory(phone_number=number_a), wamid=FAILED_WAMID,
                                 direction=Message.Direction.OUTBOUND, status=Message.Status.SENT)
    payload = load_webhook_fixture("status_failed")
    error = payload["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]
    error["title"] = "Message\x00undeliverable"
    error["error_data"]["details"] = "Undeliverable \udc80"

    webhook.post(json.dumps(payload))
    assert process_journal() == 1

    with in_tenant(tenant_a):
        message.refresh_from_db()
        event = StatusEvent.objects.get()
    assert message.status == Message.Status.FAILED
    assert (message.error_title, message.error_details) == ("Message\ufffdundeliverable", "Undeliverable \ufffd")
    assert event.errors[0]["title"] == "Message\ufffdundeliverable"


def test_a_failure_after_delivery_does_not_demote_the_message(outbound_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message_status_apply(event=_status_event("status_delivered"))
        outcome = message_status_apply(event=_status_event("status_failed", id=WAMID))
        message = Message.objects.get(pk=outbound_a.pk)
    assert outcome == StatusOutcome.RECORDED
    assert message.status == Message.Status.DELIVERED
    assert message.failed_at is None and message.error_code is None


@pytest.mark.parametrize("fixture,category,billable", [
    ("status_category_service", "service", False),
    ("status_category_marketing", "marketing", True),
    ("status_category_utility", "utility", True),
    ("status_category_authentication", "authentication", True),
])
def test_pricing_and_conversation_are_kept_for_billing(fixture, category, billable, number_a, tenant_a, in_tenant):
    [event] = parse_envelope(load_webhook_fixture(fixture))
    with in_tenant(tenant_a):
        message = MessageFactory(conversation=ConversationFactory(phone_number=number_a), wamid=event.wamid,
                                 direction=Message.Direction.OUTBOUND, status=Message.Status.SENDING)
        message_status_apply(event=event)
        message.refresh_from_db()
        stored = StatusEvent.objects.get()
    assert message.pricing_category == category
    assert message.pricing["billable"] is billable
    assert message.conversation_info == event.conversation
    assert stored.pricing == event.pricing and stored.conversation_info == event.conversation


def test_a_status_before_its_message_waits_and_applies_when_the_wamid_is_known(
    webhook, number_a, tenant_a, in_tenant
):
    webhook.post(load_webhook_fixture_bytes("status_delivered"))
    webhook.post(load_webhook_fixture_bytes("status_sent"))
    process_journal()
    with in_tenant(tenant_a):
        assert set(StatusEvent.objects.values_list("message_id", "applied_at")) == {(None, None)}
        message = MessageFactory(conversation=ConversationFactory(phone_number=number_a), wamid=None,
                                 direction=Message.Direction.OUTBOUND, status=Message.Status.SENDING)
        Message.objects.filter(pk=message.pk).update(wamid=WAMID)  # what the send worker records
        message.refresh_from_db()

        pending_statuses_apply(message=message)
        pending_statuses_apply(message=message)  # idempotent

        assert message.status == Message.Status.DELIVERED
        assert message.sent_at == _at("1750263773") and message.delivered_at == _at("1750263775")
        assert StatusEvent.objects.filter(message=message, applied_at__isnull=False).count() == 2


def test_biz_opaque_callback_data_attaches_a_status_to_a_message_without_wamid(number_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = MessageFactory(conversation=ConversationFactory(phone_number=number_a), wamid=None,
                                 direction=Message.Direction.OUTBOUND, status=Message.Status.SENDING)
        event = _status_event("status_biz_opaque_callback_data", biz_opaque_callback_data=str(message.pk))

        assert message_status_apply(event=event) == StatusOutcome.APPLIED
        message.refresh_from_db()
    assert message.wamid == event.wamid
    assert message.status == Message.Status.SENT
    assert message.pricing_category == "marketing"


def test_biz_opaque_callback_data_never_rewrites_a_known_wamid_or_an_inbound_message(
    number_a, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        conversation = ConversationFactory(phone_number=number_a)
        known = MessageFactory(conversation=conversation, wamid="wamid.already-known",
                               direction=Message.Direction.OUTBOUND, status=Message.Status.SENDING)
        inbound = MessageFactory(conversation=conversation, wamid=None)
        for target in (known, inbound):
            event = _status_event("status_biz_opaque_callback_data", biz_opaque_callback_data=str(target.pk),
                                  id=f"wamid.other-{target.pk}")
            assert message_status_apply(event=event) == StatusOutcome.PENDING
        known.refresh_from_db()
        inbound.refresh_from_db()
    assert known.wamid == "wamid.already-known" and known.status == Message.Status.SENDING
    assert inbound.wamid is None and inbound.status == Message.Status.RECEIVED


def test_the_fixture_callback_data_that_is_not_our_id_just_waits(webhook, number_a, tenant_a, in_tenant):
    webhook.post(load_webhook_fixture_bytes("status_biz_opaque_callback_data"))
    process_journal()

    with in_tenant(tenant_a):
        event = StatusEvent.objects.get()
    assert event.biz_opaque_callback_data == "msg:7f9c2ba4-e88f-4c2a-9d1e-3b6a5c0d8e21"
    assert event.message_id is None


def test_statuses_for_beta_never_touch_alpha(webhook, outbound_a, number_b, tenant_a, tenant_b, in_tenant):
    payload = load_webhook_fixture("status_read")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number_b.phone_number_id
    webhook.post(json.dumps(payload))
    process_journal()

    with in_tenant(tenant_a):
        assert Message.objects.get(pk=outbound_a.pk).status == Message.Status.SENDING
        assert not StatusEvent.objects.exists()
    with in_tenant(tenant_b):
        assert StatusEvent.objects.get().message_id is None
