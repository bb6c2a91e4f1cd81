"""`message.status_changed`: one event per real status change of an outbound message, written with
the status in its transaction, in a fixed number of statements per batch; none for a duplicate, a
status behind the message's or a timestamp filled in late; nothing at all without a subscriber."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import Delivery, Event
from integrations.services import endpoint_create
from messaging.models import Message
from messaging.statuses import message_status_apply, message_statuses_apply, pending_statuses_apply
from tests.messaging.factories import ConversationFactory, MessageFactory
from waba.webhook_events import StatusUpdate

T0 = 1_750_263_700
ERROR = {"code": 131026, "title": "Message undeliverable", "error_data": {"details": "Undeliverable."}}
PRICING = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


def _status(wamid: str, status: str, at: int, **extra) -> StatusUpdate:
    return StatusUpdate(
        phone_number_id="1",
        waba_id="",
        wamid=wamid,
        status=status,
        timestamp=_at(at),
        recipient_id="16315551181",
        biz_opaque_callback_data=extra.get("callback"),
        conversation=None,
        pricing=extra.get("pricing"),
        errors=extra.get("errors", []),
    )


def _outbound(wamid: str | None, status: str = Message.Status.SENDING) -> Message:
    return MessageFactory.create(
        conversation=ConversationFactory(),
        direction=Message.Direction.OUTBOUND,
        wamid=wamid,
        status=status,
        type="template",
    )


def _changes() -> list[tuple[str, str, str]]:
    return [
        (
            event.data["message"]["wamid"],
            event.data["message"]["previous_status"],
            event.data["message"]["status"],
        )
        for event in Event.objects.filter(type="message.status_changed").order_by("id")
    ]


@pytest.fixture
def subscribed(tenant_a, in_tenant, allow_private):
    """Two of alpha's endpoints subscribe to status changes, a third only to orders."""
    with in_tenant(tenant_a):
        endpoints = [
            endpoint_create(url=f"http://127.0.0.1:9/{n}", event_types=["message.status_changed"])[0]
            for n in range(2)
        ]
        endpoint_create(url="http://127.0.0.1:9/orders", event_types=["order.created"])
        return endpoints


def test_a_batch_emits_one_event_per_change_and_none_for_duplicates_or_backwards_statuses(
    tenant_a, in_tenant, subscribed
):
    with in_tenant(tenant_a):
        message = _outbound("wamid.one")
        message_statuses_apply(
            events=[
                _status("wamid.one", "sent", 10, pricing=PRICING),
                _status("wamid.one", "delivered", 20),
                _status("wamid.one", "sent", 10),  # the same status again in the batch
                _status("wamid.unknown", "sent", 10),  # no message has it (yet)
            ]
        )
        assert _changes() == [("wamid.one", "sending", "sent"), ("wamid.one", "sent", "delivered")]

        message_statuses_apply(
            events=[
                _status("wamid.one", "delivered", 20),  # a re-delivery of the webhook
                _status("wamid.one", "failed", 25, errors=[ERROR]),  # behind delivered: recorded, no change
                _status("wamid.one", "read", 30),
            ]
        )
        assert _changes()[2:] == [("wamid.one", "delivered", "read")]
        message.refresh_from_db()
        assert message.status == "read"

        read = Event.objects.filter(type="message.status_changed").order_by("id").last()
        assert read.data == {
            "message": {
                "id": message.pk,
                "wamid": "wamid.one",
                "status": "read",
                "previous_status": "delivered",
                "timestamp": _at(30).isoformat(),
                "error": None,
                "pricing_category": "utility",
            },
            "contact": {"wa_id": "16315551181"},
            "conversation_id": message.conversation_id,
        }
        deliveries = Delivery.objects.filter(event__type="message.status_changed")
        assert deliveries.count() == 3 * 2
        assert set(deliveries.values_list("endpoint_id", flat=True)) == {
            endpoint.pk for endpoint in subscribed
        }


def test_one_by_one_and_statuses_that_waited_emit_the_same_way(tenant_a, in_tenant, subscribed):
    with in_tenant(tenant_a):
        _outbound("wamid.two")
        message_status_apply(event=_status("wamid.two", "sent", 10))
        message_status_apply(event=_status("wamid.two", "sent", 10))  # duplicate
        message_status_apply(event=_status("wamid.two", "failed", 15, errors=[ERROR]))
        message_status_apply(event=_status("wamid.two", "failed", 16, errors=[ERROR]))  # duplicate
        assert _changes() == [("wamid.two", "sending", "sent"), ("wamid.two", "sent", "failed")]
        failed = Event.objects.filter(type="message.status_changed").order_by("id").last()
        assert failed.data["message"]["error"] == {"code": 131026, "title": "Message undeliverable"}

        # Statuses for a wamid no message has yet wait; they are changes when the message gets it.
        message_statuses_apply(
            events=[_status("wamid.late", "delivered", 20), _status("wamid.late", "sent", 10)]
        )
        assert len(_changes()) == 2
        waiting = _outbound(None)
        Message.objects.filter(pk=waiting.pk).update(wamid="wamid.late")
        waiting.refresh_from_db()
        pending_statuses_apply(message=waiting)
        assert _changes()[2:] == [("wamid.late", "sending", "sent"), ("wamid.late", "sent", "delivered")]


def test_nothing_is_written_for_a_tenant_without_a_subscriber(tenant_a, in_tenant, allow_private):
    with in_tenant(tenant_a):
        endpoint_create(url="http://127.0.0.1:9/orders", event_types=["order.created"])
        _outbound("wamid.three")
        message_statuses_apply(
            events=[_status("wamid.three", "sent", 10), _status("wamid.three", "read", 20)]
        )
        assert Message.objects.get(wamid="wamid.three").status == "read"
        assert not Event.objects.exists() and not Delivery.objects.exists()


def _statements(prefix: str, messages: int) -> int:
    for n in range(messages):
        _outbound(f"wamid.{prefix}-{n}")
    events = [
        _status(f"wamid.{prefix}-{n}", status, at)
        for n in range(messages)
        for status, at in (("sent", 1), ("read", 2))
    ]
    with CaptureQueriesContext(connection) as queries:
        message_statuses_apply(events=events)
    return len(queries)


def test_a_batch_emits_in_a_fixed_number_of_statements(tenant_a, in_tenant, subscribed):
    with in_tenant(tenant_a):
        small, large = _statements("small", 2), _statements("large", 25)
        assert small == large
        assert Event.objects.filter(type="message.status_changed").count() == 2 * 2 + 25 * 2
        assert Delivery.objects.count() == (2 * 2 + 25 * 2) * 2
