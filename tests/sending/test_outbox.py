"""Outbox bookkeeping: recording wamids next to status webhooks that got there first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from messaging.models import Message, StatusEvent
from sending import outbox
from sending.schemas import MessageContentIn
from sending.validation import BuiltMessage, message_build
from tests.sending.factories import ConversationFactory, PhoneNumberFactory
from tests.sending.helpers import queue_text


def test_a_status_that_arrived_before_the_wamid_is_applied_when_the_wamid_is_recorded(tenant_a, in_tenant, number_a, open_window_a):
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
        Message.objects.filter(pk=message.pk).update(status="sending", attempts=1)
        delivered_at = timezone.now() - timedelta(seconds=1)
        StatusEvent.objects.create(wamid="wamid.EARLY", status="delivered", timestamp=delivered_at)

        outbox.outbox_record_sent(sent=[(message.pk, "wamid.EARLY", timezone.now())])

        message.refresh_from_db()
        assert message.wamid == "wamid.EARLY"
        assert message.status == "delivered"
        assert message.delivered_at == delivered_at and message.sent_at is not None
        assert StatusEvent.objects.get(wamid="wamid.EARLY").message_id == message.pk


def test_recording_a_wamid_never_moves_a_message_backwards(tenant_a, in_tenant, number_a, open_window_a):
    with in_tenant(tenant_a):
        message = queue_text(number_a, open_window_a.contact.wa_id)
        Message.objects.filter(pk=message.pk).update(status="read", wamid="wamid.R")
        outbox.outbox_record_sent(sent=[(message.pk, "wamid.R", timezone.now())])
        message.refresh_from_db()
        assert message.status == "read"


def test_messages_to_one_contact_all_count_in_its_conversation(tenant_a, in_tenant, number_a, open_window_a):
    with in_tenant(tenant_a):
        for _ in range(3):
            queue_text(number_a, open_window_a.contact.wa_id)
        open_window_a.refresh_from_db()
        assert open_window_a.message_count == 3


def test_one_enqueue_counts_each_message_in_its_conversation_whether_named_or_looked_up(
    tenant_a, in_tenant, number_a, open_window_a
):
    with in_tenant(tenant_a):
        other = ConversationFactory(phone_number=number_a)
        contact = open_window_a.contact
        named = dict(contact_id=contact.pk, conversation_id=open_window_a.pk)
        items = [
            outbox.OutboundItem(wa_id=contact.wa_id, built=_text_to(contact.wa_id, "one"), **named),
            outbox.OutboundItem(wa_id=other.contact.wa_id, built=_text_to(other.contact.wa_id, "two")),
            outbox.OutboundItem(wa_id=contact.wa_id, built=_text_to(contact.wa_id, "three"), **named),
            outbox.OutboundItem(wa_id=contact.wa_id, built=_text_to(contact.wa_id, "four")),
        ]

        messages = outbox.outbox_enqueue(phone_number=number_a, items=items)

        stored = Message.objects.filter(pk__in=[message.pk for message in messages]).order_by("pk")
        assert [(m.body, m.conversation_id, m.contact_id, m.status) for m in stored] == [
            ("one", open_window_a.pk, contact.pk, Message.Status.QUEUED),
            ("two", other.pk, other.contact_id, Message.Status.QUEUED),
            ("three", open_window_a.pk, contact.pk, Message.Status.QUEUED),
            ("four", open_window_a.pk, contact.pk, Message.Status.QUEUED),
        ]
        assert all(m.request_payload["biz_opaque_callback_data"] == str(m.pk) for m in stored)
        open_window_a.refresh_from_db()
        other.refresh_from_db()
        assert (open_window_a.message_count, other.message_count) == (3, 1)


def _text_to(wa_id: str, body: str) -> BuiltMessage:
    return message_build(spec=MessageContentIn.model_validate({"type": "text", "text": {"body": body}}), to_wa_id=wa_id)


@pytest.mark.parametrize("plan", ["default", "nested_loop"])
def test_a_claim_takes_at_most_its_limit_whatever_plan_postgres_picks(tenant_a, in_tenant, settings, plan):
    """More rows claimed than the limiter granted slots for would be sent on slots nobody reserved."""
    with in_tenant(tenant_a):
        number = PhoneNumberFactory()
        windows = [ConversationFactory(phone_number=number) for _ in range(30)]
        for window in windows:
            queue_text(number, window.contact.wa_id)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE messaging_message")
            if plan == "nested_loop":
                # A nested-loop semi join that re-runs the row picking for every row it scans: a plan
                # PostgreSQL chose on its own for a busy, freshly analysed table.
                for knob in ("enable_hashjoin", "enable_material", "enable_hashagg", "enable_sort"):
                    cursor.execute(f"SET LOCAL {knob} = off")
        claimed = outbox.outbox_claim(phone_number_pk=number.pk, limit=4, lease_s=60)
        assert len(claimed) == 4
        assert Message.objects.filter(phone_number=number, status="sending").count() == 4


def _unknown_outcome_and_an_accepted_neighbour(number, wa_id, *, unknown_since: timedelta):
    """A message whose outcome is unknown, and another from the same number that Meta accepted before it."""
    now = timezone.now()
    unknown = queue_text(number, wa_id, "Where is my order?")
    Message.objects.filter(pk=unknown.pk).update(
        status="sending", attempts=1, last_attempt_at=now - unknown_since, next_attempt_at=now - timedelta(seconds=1)
    )
    accepted = queue_text(number, wa_id, "Thanks for your order")
    Message.objects.filter(pk=accepted.pk).update(
        status="sent", attempts=1, wamid="wamid.ACCEPTED", last_attempt_at=now - unknown_since - timedelta(seconds=30)
    )
    return unknown


@pytest.fixture
def grace_60s(settings):
    settings.SEND_RECONCILE_GRACE_S = 60
    settings.SEND_RECONCILE_MAX_HOLD_S = 3600


def test_an_unknown_outcome_is_held_while_the_numbers_status_webhooks_are_not_arriving(tenant_a, in_tenant, number_a, open_window_a, grace_60s, caplog):
    with in_tenant(tenant_a):
        unknown = _unknown_outcome_and_an_accepted_neighbour(number_a, open_window_a.contact.wa_id,
                                                             unknown_since=timedelta(minutes=2))

        result = outbox.outbox_reconcile(max_attempts=8)

        unknown.refresh_from_db()
    assert result == outbox.Reconciled(held=1)
    assert unknown.status == "sending" and unknown.attempts == 1
    assert unknown.next_attempt_at > timezone.now() + timedelta(seconds=50)  # another grace period
    assert "status webhooks are not arriving" in caplog.text


def test_an_unknown_outcome_is_sent_again_when_statuses_arrive_for_the_number(tenant_a, in_tenant, number_a, open_window_a, grace_60s):
    with in_tenant(tenant_a):
        unknown = _unknown_outcome_and_an_accepted_neighbour(number_a, open_window_a.contact.wa_id,
                                                             unknown_since=timedelta(minutes=2))
        StatusEvent.objects.create(wamid="wamid.ACCEPTED", status="delivered", timestamp=timezone.now())

        result = outbox.outbox_reconcile(max_attempts=8)

        unknown.refresh_from_db()
    assert result == outbox.Reconciled(requeued=1)
    assert unknown.status == "queued"


def test_an_idle_numbers_silence_proves_nothing_and_the_message_is_sent_again(tenant_a, in_tenant, number_a, open_window_a, grace_60s):
    with in_tenant(tenant_a):
        unknown = queue_text(number_a, open_window_a.contact.wa_id)
        Message.objects.filter(pk=unknown.pk).update(
            status="sending", attempts=1, last_attempt_at=timezone.now() - timedelta(minutes=2),
            next_attempt_at=timezone.now() - timedelta(seconds=1),
        )

        assert outbox.outbox_reconcile(max_attempts=8) == outbox.Reconciled(requeued=1)


def test_a_hold_ends_after_the_longest_hold_and_the_message_is_sent_again(tenant_a, in_tenant, number_a, open_window_a, grace_60s):
    with in_tenant(tenant_a):
        unknown = _unknown_outcome_and_an_accepted_neighbour(number_a, open_window_a.contact.wa_id,
                                                             unknown_since=timedelta(hours=2))

        result = outbox.outbox_reconcile(max_attempts=8)

        unknown.refresh_from_db()
    assert result == outbox.Reconciled(requeued=1)
    assert unknown.status == "queued"
