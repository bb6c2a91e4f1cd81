"""Inbound messages processed in batches: the same rows, counts and dispatches as one by one.

The worker stores a tenant's inbound messages together with its statuses (one transaction, a few
statements for the storage whatever the number of messages); every new message is still dispatched
to the automations exactly once, and a tenant whose batch fails goes the one-by-one way.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations.models import AutomatedReply, AutomationRun, ConversationState, WorkflowStepVisit
from automations.seeds import builtins_install
from automations.services.handoffs import handoff_open
from flows_builder.models import FlowResponse
from messaging import inbound
from messaging.models import Contact, Conversation, Message, MessageMedia, WebhookEventLogEntry
from messaging.signals import inbound_message_stored
from platform_core.signals import IsolatedSignal
from tests.factories import ContactFactory
from tests.fixtures import fixture_names, load_webhook_fixture_bytes
from tests.messaging.factories import FIXTURE_PHONE_ID, FIXTURE_WABA_ID, SECOND_PHONE_ID, SECOND_WABA_ID
from tests.webhooks.conftest import APP_ID
from webhooks.journal import journal_entries_claim, journal_entry_record
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry
from webhooks.processing import journal_entry_process
from webhooks.tasks import journal_entries_work

State = WebhookJournalEntry.State
# A tap that moves a contact from the main menu into the order workflow, 2 measured: the state closed
# and started. Its reply is queued with the batch's others, in statements the batch shares.
MENU_TAP_STATEMENTS = 3
T0 = 1_750_263_700
MESSAGE_FIXTURES = [name for name in fixture_names() if name.startswith("message_")]
MESSAGE_FIELDS = (
    "wamid", "direction", "type", "content", "body", "context_wamid", "referral", "referral_source_id",
    "status", "timestamp", "contact__wa_id", "phone_number__phone_number_id",
)


def _text(wamid: str, wa_id: str, at: int, body: str = "hello", name: str | None = "Kerry") -> dict:
    return {
        "message": {"from": wa_id, "id": wamid, "timestamp": str(T0 + at), "type": "text", "text": {"body": body}},
        "contact": {"profile": {"name": name}, "wa_id": wa_id} if name is not None else {"wa_id": wa_id},
    }


def _body(*items: dict, phone_number_id: str = FIXTURE_PHONE_ID, waba_id: str = FIXTURE_WABA_ID) -> bytes:
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": waba_id,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
                    "contacts": [item["contact"] for item in items],
                    "messages": [item["message"] for item in items],
                },
            }],
        }],
    }).encode()


def _record(*bodies: bytes) -> list[int]:
    return [journal_entry_record(app_id=APP_ID, body=body, signature_verified=True) for body in bodies]


def _work(limit: int = 100) -> list[int]:
    entry_ids = journal_entries_claim(limit=limit, worker="w")
    journal_entries_work(entry_ids=entry_ids, worker="w", should_stop=lambda: False)
    return entry_ids


def _outcomes(entry_ids: list[int]) -> list[dict | None]:
    by_id = dict(WebhookJournalEntry.objects.filter(id__in=entry_ids).values_list("id", "outcome"))
    return [by_id[entry_id] for entry_id in entry_ids]


def _states(entry_ids: list[int]) -> list[str]:
    by_id = dict(WebhookJournalEntry.objects.filter(id__in=entry_ids).values_list("id", "state"))
    return [by_id[entry_id] for entry_id in entry_ids]


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


@pytest.fixture
def dispatched():
    """The wamids every `inbound_message_stored` receiver call was for, in order."""
    seen: list[str] = []

    def receiver(sender, message, **kwargs):
        seen.append(message.wamid)

    inbound_message_stored.connect(receiver, dispatch_uid="tests.dispatched")
    yield seen
    inbound_message_stored.disconnect(dispatch_uid="tests.dispatched")


def _inbound_rows() -> dict:
    messages = sorted(
        (json.dumps(row, sort_keys=True, default=str) for row in
         Message.objects.filter(direction=Message.Direction.INBOUND).values(*MESSAGE_FIELDS)),
    )
    contacts = sorted(
        Contact.objects.values_list("wa_id", "profile_name", "first_seen_at", "last_seen_at", "opted_out")
    )
    conversations = sorted(
        Conversation.objects.values_list(
            "contact__wa_id", "phone_number__phone_number_id", "message_count", "unread_count",
            "last_message_at", "last_inbound_at", "service_window_expires_at",
        )
    )
    media = sorted(wamid or "" for wamid in MessageMedia.objects.values_list("message__wamid", flat=True))
    return {"messages": messages, "contacts": contacts, "conversations": conversations, "media": media}


def _wipe() -> None:
    Message.objects.all().delete()
    Conversation.objects.all().delete()
    Contact.objects.all().delete()


def test_every_message_type_is_stored_batched_exactly_as_one_by_one(
    meta_app, number_a, tenant_a, in_tenant, dispatched
):
    bodies = [load_webhook_fixture_bytes(name) for name in MESSAGE_FIXTURES]
    one_ids = _record(*bodies)
    for entry_id in one_ids:
        journal_entry_process(entry_id=entry_id)
    with in_tenant(tenant_a):
        one = _inbound_rows()
        _wipe()
    one_dispatched, dispatched[:] = list(dispatched), []

    batch_ids = _record(*bodies)
    assert _work() == batch_ids

    with in_tenant(tenant_a):
        batch = _inbound_rows()
        logged = WebhookEventLogEntry.objects.filter(journal_entry_id__in=batch_ids).count()
    assert len(one["messages"]) >= 20
    assert batch == one
    assert dispatched == one_dispatched
    assert _outcomes(batch_ids) == _outcomes(one_ids)
    assert _states(batch_ids) == [State.PROCESSED] * len(batch_ids)
    assert logged == len(batch_ids)


def test_a_redelivered_message_is_stored_and_dispatched_once_within_and_across_batches(
    meta_app, number_a, tenant_a, in_tenant, dispatched
):
    first = _text("wamid.redelivered", "15550001111", 10)
    second = _text("wamid.fresh", "15550001111", 20)
    entries = _record(_body(first), _body(first, second), _body(first))
    _work()
    again = _record(_body(first, second))
    _work()

    assert dispatched == ["wamid.redelivered", "wamid.fresh"]
    assert _outcomes(entries) == [
        {"messages_stored": 1},
        {"messages_duplicate": 1, "messages_stored": 1},
        {"messages_duplicate": 1},
    ]
    assert _outcomes(again) == [{"messages_duplicate": 2}]
    with in_tenant(tenant_a):
        conversation = Conversation.objects.get(contact__wa_id="15550001111")
        assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 2
    assert (conversation.message_count, conversation.unread_count) == (2, 2)


def test_contacts_and_conversations_sum_a_batch_in_any_order(meta_app, number_a, tenant_a, in_tenant):
    """Out of order, one customer several times, a name missing from one message: the widest times,
    the last name given, every message counted, the window from the customer's latest message."""
    _record(
        _body(_text("wamid.o-3", "15550002222", 30, name="Ana")),
        _body(_text("wamid.o-1", "15550002222", 10, name="Ana B.")),
        _body(_text("wamid.o-2", "15550002222", 20, name=None), _text("wamid.p-1", "15550003333", 5)),
    )
    _work()

    with in_tenant(tenant_a):
        ana = Contact.objects.get(wa_id="15550002222")
        conversation = Conversation.objects.get(contact=ana)
        other = Conversation.objects.get(contact__wa_id="15550003333")
    assert (ana.profile_name, ana.first_seen_at, ana.last_seen_at) == ("Ana B.", _at(10), _at(30))
    assert (conversation.message_count, conversation.unread_count) == (3, 3)
    assert (conversation.last_message_at, conversation.last_inbound_at) == (_at(30), _at(30))
    assert conversation.service_window_expires_at == _at(30) + timedelta(hours=24)
    assert (other.message_count, other.last_inbound_at) == (1, _at(5))


def test_a_number_the_tenant_lacks_falls_back_and_dead_letters_only_that_change(
    meta_app, number_a, tenant_a, in_tenant, dispatched
):
    """The routing index says alpha, alpha has no such number: the batch goes one by one."""
    from tests.messaging.factories import route_claim

    route_claim(tenant=tenant_a, waba_id=SECOND_WABA_ID, phone_number_ids=[SECOND_PHONE_ID])
    entries = _record(
        _body(_text("wamid.kept", "15550004444", 10)),
        _body(_text("wamid.lost", "15550005555", 10), phone_number_id=SECOND_PHONE_ID, waba_id=SECOND_WABA_ID),
    )
    _work()

    assert _states(entries) == [State.PROCESSED, State.PROCESSED]
    assert _outcomes(entries) == [{"messages_stored": 1}, {"dead_lettered": 1}]
    assert dispatched == ["wamid.kept"]
    assert WebhookDeadLetter.objects.get().reason == WebhookDeadLetter.Reason.PHONE_NUMBER_MISSING
    with in_tenant(tenant_a):
        assert list(Message.objects.values_list("wamid", flat=True)) == ["wamid.kept"]


def test_two_tenants_messages_in_one_batch_land_in_their_own_schemas(
    meta_app, number_a, number_b, tenant_a, tenant_b, in_tenant, dispatched
):
    entries = _record(
        _body(_text("wamid.alpha", "15550006666", 10)),
        _body(_text("wamid.beta", "15550006666", 10), phone_number_id=SECOND_PHONE_ID, waba_id=SECOND_WABA_ID),
    )
    _work()

    assert _outcomes(entries) == [{"messages_stored": 1}, {"messages_stored": 1}]
    with in_tenant(tenant_a):
        assert list(Message.objects.values_list("wamid", flat=True)) == ["wamid.alpha"]
    with in_tenant(tenant_b):
        assert list(Message.objects.values_list("wamid", flat=True)) == ["wamid.beta"]
    assert sorted(dispatched) == ["wamid.alpha", "wamid.beta"]


def _storage_statements(messages: int, prefix: str, monkeypatch) -> int:
    """Statements the worker makes for `messages` text messages from as many customers (half of them
    known already), in messages / 2 entries, with no receiver listening; claim excluded."""
    bodies = [
        _body(_text(f"wamid.{prefix}-{n}", f"1555{prefix}{n:04d}", n),
              _text(f"wamid.{prefix}-{n}b", f"1555{prefix}{n:04d}", n + 1))
        for n in range(messages // 2)
    ]
    entries = _record(*bodies)
    claimed = journal_entries_claim(limit=100, worker="w")
    assert claimed == entries
    monkeypatch.setattr(inbound, "inbound_message_stored", IsolatedSignal())

    with CaptureQueriesContext(connection) as queries:
        journal_entries_work(entry_ids=claimed, worker="w", should_stop=lambda: False)

    monkeypatch.undo()
    assert _states(entries) == [State.PROCESSED] * len(entries)
    return len(queries)


def test_storing_a_batch_takes_the_same_few_statements_whatever_its_size(
    meta_app, number_a, tenant_a, in_tenant, monkeypatch
):
    _storage_statements(4, "900", monkeypatch)  # the Meta app is read once, then cached
    small = _storage_statements(10, "901", monkeypatch)
    large = _storage_statements(50, "902", monkeypatch)
    assert small == large
    assert large <= 20


def _batch_statements(bodies: list[bytes]) -> int:
    """Statements of the worker applying `bodies` in one batch (all processed)."""
    entries = _record(*bodies)
    claimed = journal_entries_claim(limit=100, worker="w")
    with CaptureQueriesContext(connection) as queries:
        journal_entries_work(entry_ids=claimed, worker="w", should_stop=lambda: False)
    assert _states(entries) == [State.PROCESSED] * len(entries)
    return len(queries)


def _dispatch_statements(messages: int, prefix: str) -> int:
    return _batch_statements([_body(_text(f"wamid.{prefix}-{n}", f"1555{prefix}{n:04d}", n)) for n in range(messages)])


def test_a_batch_nobody_answers_costs_the_same_statements_whatever_its_size(
    meta_app, number_a, tenant_a, in_tenant
):
    """With every receiver listening (automations, Flows, outbound webhooks) and nothing configured to
    answer: the account, the keyword triggers, the knowledge base switch and the subscribed endpoints
    are read once per batch, the contacts' handoffs and states in one statement each, the run records
    written in one INSERT, the receivers all run in one savepoint, and the Flows and outbound-webhook
    receivers are not called for a text nobody subscribed to."""
    _dispatch_statements(4, "910")
    small = _dispatch_statements(10, "911")
    large = _dispatch_statements(50, "912")
    assert small == large
    assert large <= 30
    with in_tenant(tenant_a):
        assert AutomationRun.objects.count() == 64
        assert set(AutomationRun.objects.values_list("outcome", flat=True)) == {"no_match"}


def _tap(wamid: str, wa_id: str, at: int, option_id: str, title: str) -> dict:
    return {
        "message": {"from": wa_id, "id": wamid, "timestamp": str(T0 + at), "type": "interactive",
                    "interactive": {"type": "button_reply", "button_reply": {"id": option_id, "title": title}}},
        "contact": {"profile": {"name": "Kerry"}, "wa_id": wa_id},
    }


def test_a_batch_answers_each_contact_from_its_own_handoff_and_state(meta_app, number_a, tenant_a, in_tenant):
    """The batch reads every contact's handoff and state at once, yet a contact's second message of
    the batch sees the state its first one left, exactly as one message at a time."""
    handed, talker, other = "15559000001", "15559000002", "15559000003"
    with in_tenant(tenant_a):
        builtins_install()
        handoff_open(contact=ContactFactory(wa_id=handed), phone_number=number_a, opened_by="business")
    entries = _record(
        _body(_text("wamid.b-1", handed, 1, body="Hi"), _text("wamid.b-2", talker, 2, body="Hi")),
        _body(_tap("wamid.b-3", talker, 3, "place_order", "Place Order"), _text("wamid.b-4", other, 4, body="Hi")),
    )
    assert _work() == entries

    assert _states(entries) == [State.PROCESSED] * 2
    with in_tenant(tenant_a):
        runs = {run.message.wamid: run for run in AutomationRun.objects.select_related("message")}
        assert runs["wamid.b-1"].outcome == "handoff_open"
        assert (runs["wamid.b-2"].outcome, runs["wamid.b-2"].workflow_name) == (
            runs["wamid.b-4"].outcome, runs["wamid.b-4"].workflow_name
        )
        assert (runs["wamid.b-3"].outcome, runs["wamid.b-3"].workflow_name) == ("advanced", "new_order")
        state = ConversationState.objects.get(contact__wa_id=talker, status=ConversationState.Status.ACTIVE)
        assert (state.workflow_name, state.last_processed_wamid) == ("new_order", "wamid.b-3")
        assert not ConversationState.objects.filter(contact__wa_id=handed).exists()
        replied_to = set(
            Message.objects.filter(direction=Message.Direction.OUTBOUND).values_list("contact__wa_id", flat=True)
        )
        assert replied_to == {talker, other}
        # The rows written once the batch was dispatched: what each reply answered, the steps entered.
        assert sorted(AutomatedReply.objects.values_list("inbound_message__wamid", "outbound_message__contact__wa_id")) == [
            ("wamid.b-2", talker), ("wamid.b-3", talker), ("wamid.b-4", other)
        ]
        visits = WorkflowStepVisit.objects.filter(contact__wa_id=talker).order_by("pk")
        assert [(visit.workflow.name, visit.step) for visit in visits][-1][0] == "new_order"


def test_a_flow_reply_in_a_batch_still_reaches_the_flows_receiver(meta_app, number_a, tenant_a, in_tenant):
    reply = {
        "message": {"from": "15559000009", "id": "wamid.b-flow", "timestamp": str(T0 + 9), "type": "interactive",
                    "interactive": {"type": "nfm_reply", "nfm_reply": {
                        "name": "flow", "body": "Sent", "response_json": json.dumps({"flow_token": "t-1", "a": 1})}}},
        "contact": {"profile": {"name": "Kerry"}, "wa_id": "15559000009"},
    }
    entries = _record(_body(reply, _text("wamid.b-text", "15559000009", 10)))
    _work()
    assert _states(entries) == [State.PROCESSED]
    with in_tenant(tenant_a):
        assert list(FlowResponse.objects.values_list("wamid", "flow_token")) == [("wamid.b-flow", "t-1")]


def test_a_receiver_failing_in_a_batch_is_rolled_back_alone(meta_app, number_a, tenant_a, in_tenant):
    """The batch's receivers run in one savepoint; when one raises, the batch is dispatched again with
    each receiver in a savepoint of its own: only the failing call is lost."""
    calls: list[str] = []

    def marks_then_fails_on_b2(sender, message, **kwargs):
        calls.append(message.wamid)
        Contact.objects.filter(pk=message.contact_id).update(profile_name=f"seen {message.wamid}")
        if message.wamid == "wamid.f-2":
            raise RuntimeError("this receiver is broken for one message")

    inbound_message_stored.connect(marks_then_fails_on_b2, dispatch_uid="tests.marks")
    try:
        entries = _record(_body(*(_text(f"wamid.f-{n}", f"1555800000{n}", n) for n in range(1, 4))))
        _work()
    finally:
        inbound_message_stored.disconnect(dispatch_uid="tests.marks")

    assert _states(entries) == [State.PROCESSED]
    assert _outcomes(entries)[0]["dispatch_failures"] == 1
    assert calls == ["wamid.f-1", "wamid.f-2", "wamid.f-1", "wamid.f-2", "wamid.f-3"]
    with in_tenant(tenant_a):
        names = dict(Contact.objects.values_list("wa_id", "profile_name"))
        assert names == {"15558000001": "seen wamid.f-1", "15558000002": "Kerry", "15558000003": "seen wamid.f-3"}
        assert sorted(AutomationRun.objects.values_list("message__wamid", flat=True)) == [
            "wamid.f-1", "wamid.f-2", "wamid.f-3"
        ]


def _tap_statements(customers: int, prefix: str) -> int:
    """Statements of one batch in which `customers` contacts, each in the main menu, tap Place Order
    (ten minutes ago: inside their 24-hour window, so every reply is queued)."""
    recent = int(time.time()) - 600 - T0
    _record(*(_body(_text(f"wamid.{prefix}-hi{n}", f"1556{prefix}{n:04d}", recent + n, body="Hi"))
              for n in range(customers)))
    _work()
    return _batch_statements([
        _body(_tap(f"wamid.{prefix}-tap{n}", f"1556{prefix}{n:04d}", recent + 100 + n, "place_order", "Place Order"))
        for n in range(customers)
    ])


def test_a_menu_tap_in_a_batch_costs_a_bounded_number_of_statements(meta_app, number_a, tenant_a, in_tenant):
    """Each tapped option is answered (its state moved on, its reply queued) in the statements that
    tap needs; what the batch shares (workflows, catalogue, the number, the plan, the replies' checks,
    quota and queueing) is done once."""
    with in_tenant(tenant_a):
        builtins_install()
    _tap_statements(2, "920")
    small = _tap_statements(5, "921")
    large = _tap_statements(15, "922")
    assert (large - small) / 10 <= MENU_TAP_STATEMENTS
    with in_tenant(tenant_a):
        assert AutomationRun.objects.filter(message__wamid__contains="-tap", outcome="advanced").count() == 22
        tap_replies = AutomatedReply.objects.filter(inbound_message__wamid__contains="-tap")
        assert sorted(set(tap_replies.values_list("outbound_message__status", "error_code"))) == [
            (Message.Status.QUEUED, "")
        ]
        assert tap_replies.count() == 22
