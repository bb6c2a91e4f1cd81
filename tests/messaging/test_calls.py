"""The `calls` webhook field: signed call webhooks through the real endpoint and the webhook worker to the
tenant's call events, its event log and the call auto-reply the Graph API simulator receives."""

from __future__ import annotations

import itertools
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from automations.calls import call_reply_send
from automations.models import AutomatedReply
from messaging.models import CallEvent, Contact, Conversation, WebhookEventLogEntry
from tests.conftest import ApiClient
from tests.console.conftest import console_a, user_a  # noqa: F401  (fixtures)
from tests.console.test_setup import _field_errors, _save, _start
from tests.factories import TemplateFactory
from tests.messaging.factories import PhoneNumberFactory, meta_app_create, route_claim
from tests.sending.factories import simulator_seed_for
from tests.sending.helpers import drain, graph_sends
from tests.webhooks.conftest import APP_ID, APP_SECRET, VERIFY_TOKEN, WebhookPoster, process_journal
from waba.models import WhatsAppAccount
from waba.webhook_events import CallEvent as CallWebhookEvent
from waba.webhook_events import parse_envelope
from webhooks.models import WebhookDeadLetter

CUSTOMER = "4915112345678"
REPLY = "We cannot take calls on WhatsApp. Please write to us here or call +49 30 1234567."
_calls = itertools.count(1)


def _call_envelope(number, *, call_id: str, event: str = "connect", customer: str = CUSTOMER,
                   phone_number_id: str | None = None, **extra) -> str:
    call = {"id": call_id, "from": customer, "to": number.display_phone_number, "event": event,
            "timestamp": str(int(time.time())), "direction": "USER_INITIATED", **extra}
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": number.account.waba_id, "changes": [{"field": "calls", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": number.display_phone_number,
                         "phone_number_id": phone_number_id or number.phone_number_id},
            "contacts": [{"profile": {"name": "Ada"}, "wa_id": customer}],
            "calls": [call],
        }}]}],
    })


def _new_call_id() -> str:
    return f"wacid.HBgLMTIxODU1NTI4MjgVAgARGCA{next(_calls):06d}"


@pytest.fixture
def line(tenant_a, in_tenant, graph_simulator, settings):
    """Alpha's routed number, known to the simulator, and a signed webhook poster; no automations."""
    settings.PAIR_RATE_INTERVAL_S = 0.01
    meta_app_create(app_id=APP_ID, secret=APP_SECRET, verify_token=VERIFY_TOKEN)
    with in_tenant(tenant_a):
        number = PhoneNumberFactory()
        template = TemplateFactory(account=number.account, name="call_us_back", language="en_US",
                                   components=[{"type": "BODY", "text": "Thanks for calling! Write to us here."}],
                                   variable_count=0)
    route_claim(tenant=tenant_a, waba_id=number.account.waba_id, phone_number_ids=[number.phone_number_id])
    simulator_seed_for(graph_simulator, number, templates=[template])
    return number, WebhookPoster(ApiClient("localhost"))


def _call(line, tenant, graph_simulator, *, times: int = 1, **call) -> list[dict]:
    """POST a signed call webhook (`times` times: Meta redelivers), process it, send: the Graph bodies."""
    number, webhook = line
    body = _call_envelope(number, **call)
    before = len(graph_sends(graph_simulator, number))
    for _ in range(times):
        assert webhook.post(body).status_code == 200
        process_journal()
    drain(tenant)
    return [
        {key: value for key, value in request["body"].items() if key != "biz_opaque_callback_data"}
        for request in graph_sends(graph_simulator, number)[before:]
    ]


def _reply_on(number, **fields) -> None:
    account = number.account
    for name, value in {"call_reply_enabled": True, "call_reply_message": REPLY, **fields}.items():
        setattr(account, name, value)
    account.save()


def _window_open(number) -> None:
    contact, _ = Contact.objects.get_or_create(wa_id=CUSTOMER)
    Conversation.objects.create(contact=contact, phone_number=number,
                                service_window_expires_at=timezone.now() + timedelta(hours=3))


def test_the_parser_reads_connect_and_terminate_events():
    number = type("N", (), {"display_phone_number": "15550783881", "phone_number_id": "106540352242922",
                            "account": type("A", (), {"waba_id": "102290129340398"})()})()
    connect = json.loads(_call_envelope(number, call_id="wacid.1"))
    del connect["entry"][0]["changes"][0]["value"]["calls"][0]["direction"]  # Meta's user-initiated example has none
    terminate = json.loads(_call_envelope(number, call_id="wacid.1", event="terminate", status="COMPLETED",
                                          duration=33, start_time="1733734738", end_time="1733734771"))

    [connected] = parse_envelope(connect)
    [ended] = parse_envelope(terminate)

    assert isinstance(connected, CallWebhookEvent)
    assert (connected.call_id, connected.wa_id, connected.profile_name, connected.event, connected.direction) == (
        "wacid.1", CUSTOMER, "Ada", "connect", "USER_INITIATED")
    assert (connected.phone_number_id, connected.waba_id) == ("106540352242922", "102290129340398")
    assert connected.routing_key == ("waba_id", "102290129340398")
    assert (ended.event, ended.status, ended.duration_s) == ("terminate", "COMPLETED", 33)


def test_a_business_initiated_call_names_the_customer_it_called():
    number = type("N", (), {"display_phone_number": "15550783881", "phone_number_id": "106540352242922",
                            "account": type("A", (), {"waba_id": "102290129340398"})()})()
    envelope = json.loads(_call_envelope(number, call_id="wacid.2"))
    call = envelope["entry"][0]["changes"][0]["value"]["calls"][0]
    call.update({"from": "15550783881", "to": CUSTOMER})
    del call["direction"]

    [event] = parse_envelope(envelope)

    assert (event.wa_id, event.direction) == (CUSTOMER, "BUSINESS_INITIATED")


def test_a_call_is_recorded_once_in_the_tenants_schema_and_logged(line, tenant_a, tenant_b, in_tenant,
                                                                   graph_simulator):
    number, _ = line
    call_id = _new_call_id()

    assert _call(line, tenant_a, graph_simulator, call_id=call_id, times=2) == []  # the reply is off
    _call(line, tenant_a, graph_simulator, call_id=call_id, event="terminate", status="COMPLETED", duration=33)

    with in_tenant(tenant_a):
        events = list(CallEvent.objects.order_by("id").values_list(
            "call_id", "event", "direction", "status", "duration_s", "contact__wa_id", "contact__profile_name",
            "phone_number_id"))
        assert events == [
            (call_id, "connect", "USER_INITIATED", "", None, CUSTOMER, "Ada", number.pk),
            (call_id, "terminate", "USER_INITIATED", "COMPLETED", 33, CUSTOMER, "Ada", number.pk),
        ]
        logged = WebhookEventLogEntry.objects.filter(field="calls").order_by("id")
        assert [(entry.event_types, entry.event_count, entry.status, entry.phone_number_id, entry.waba_id)
                for entry in logged] == [
            (["call"], 1, "processed", number.phone_number_id, number.account.waba_id)] * 2
        assert not Conversation.objects.exists()  # a call is not a message: no thread, no window
        assert not AutomatedReply.objects.exists()
    with in_tenant(tenant_b):
        assert not CallEvent.objects.exists()
        assert not WebhookEventLogEntry.objects.exists()


def test_inside_the_window_the_caller_gets_the_text_once(line, tenant_a, in_tenant, graph_simulator):
    number, _ = line
    with in_tenant(tenant_a):
        _reply_on(number)
        _window_open(number)
    call_id = _new_call_id()

    sent = _call(line, tenant_a, graph_simulator, call_id=call_id, times=2)
    ended = _call(line, tenant_a, graph_simulator, call_id=call_id, event="terminate", status="FAILED")
    again = _call(line, tenant_a, graph_simulator, call_id=_new_call_id())  # a second call within the hour

    assert sent == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER,
                     "type": "text", "text": {"body": REPLY, "preview_url": False}}]
    assert ended == [] and again == []
    with in_tenant(tenant_a):
        reply = AutomatedReply.objects.get()
        assert (reply.purpose, reply.error_code, reply.contact.wa_id) == ("call", "", CUSTOMER)
        assert reply.outbound_message.status == "sent"


def test_outside_the_window_the_caller_gets_the_template(line, tenant_a, in_tenant, graph_simulator):
    number, _ = line
    with in_tenant(tenant_a):
        _reply_on(number, call_reply_template_name="call_us_back", call_reply_template_language="en_US")

    sent = _call(line, tenant_a, graph_simulator, call_id=_new_call_id())

    assert sent == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER,
                     "type": "template", "template": {"name": "call_us_back", "language": {"code": "en_US"}}}]


def test_outside_the_window_without_a_template_nothing_is_sent(line, tenant_a, in_tenant, graph_simulator):
    number, _ = line
    with in_tenant(tenant_a):
        _reply_on(number)

    assert _call(line, tenant_a, graph_simulator, call_id=_new_call_id()) == []
    with in_tenant(tenant_a):
        assert CallEvent.objects.count() == 1
        assert not AutomatedReply.objects.exists()


def test_the_reply_comes_again_after_the_interval(line, tenant_a, in_tenant, graph_simulator):
    number, _ = line
    with in_tenant(tenant_a):
        _reply_on(number, call_reply_interval_minutes=30)
        _window_open(number)
    _call(line, tenant_a, graph_simulator, call_id=_new_call_id())

    with in_tenant(tenant_a):
        later_call = CallEvent.objects.get()
        later_call.call_id = _new_call_id()
        assert call_reply_send(call=later_call, now=timezone.now() + timedelta(minutes=20)) is None
        later = call_reply_send(call=later_call, now=timezone.now() + timedelta(minutes=31))
        assert later is not None and later.outbound_message.body == REPLY
        assert AutomatedReply.objects.count() == 2


def test_a_call_on_another_tenants_number_reaches_only_that_tenant(line, tenant_a, tenant_b, in_tenant,
                                                                    graph_simulator):
    number_a, webhook = line
    with in_tenant(tenant_b):
        number_b = PhoneNumberFactory()
        _reply_on(number_b)
    route_claim(tenant=tenant_b, waba_id=number_b.account.waba_id, phone_number_ids=[number_b.phone_number_id])
    with in_tenant(tenant_a):
        _reply_on(number_a)
        _window_open(number_a)

    assert webhook.post(_call_envelope(number_b, call_id=_new_call_id())).status_code == 200
    # Alpha's WABA naming beta's number: alpha has no such number, the change is dead-lettered.
    assert webhook.post(_call_envelope(number_a, call_id=_new_call_id(),
                                       phone_number_id=number_b.phone_number_id)).status_code == 200
    process_journal()
    drain(tenant_a)

    with in_tenant(tenant_b):
        assert CallEvent.objects.get().phone_number_id == number_b.pk
    with in_tenant(tenant_a):
        assert not CallEvent.objects.exists()
        assert not AutomatedReply.objects.exists()
    assert WebhookDeadLetter.objects.get().reason == WebhookDeadLetter.Reason.PHONE_NUMBER_MISSING
    assert graph_sends(graph_simulator, number_a) == []


def test_the_call_reply_is_set_through_the_bot_configuration_step(api_a, api_b, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account = PhoneNumberFactory().account
    step = f"/api/v1/setup/{account.pk}/steps/bot-configuration"

    half = api_a.put_json(step, {"call_reply_enabled": True, "call_reply_template_name": "call_us_back"})
    saved = api_a.put_json(step, {"call_reply_enabled": True, "call_reply_message": REPLY,
                                  "call_reply_template_name": "call_us_back", "call_reply_template_language": "en_US",
                                  "call_reply_interval_minutes": 90})
    foreign = api_b.put_json(step, {"call_reply_enabled": False})

    assert half.status_code == 422
    assert {item["field"] for item in half.json()["error"]["details"]} == {"call_reply_template_language"}
    assert saved.status_code == 200, saved.content
    bot = api_a.get(f"/api/v1/accounts/{account.pk}").json()["bot_configuration"]
    assert {key: value for key, value in bot.items() if key.startswith("call_reply")} == {
        "call_reply_enabled": True, "call_reply_message": REPLY, "call_reply_template_name": "call_us_back",
        "call_reply_template_language": "en_US", "call_reply_interval_minutes": 90}
    assert foreign.status_code == 404
    with in_tenant(tenant_a):
        account.refresh_from_db()
        assert account.call_reply_enabled and account.call_reply_interval_minutes == 90


def test_the_call_reply_needs_a_text_or_a_template_when_on(api_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account = PhoneNumberFactory().account

    response = api_a.put_json(f"/api/v1/setup/{account.pk}/steps/bot-configuration", {"call_reply_enabled": True})

    assert response.status_code == 422
    assert {item["field"] for item in response.json()["error"]["details"]} == {"call_reply_message"}


def test_the_console_bot_settings_page_edits_the_call_reply(console_a, tenant_a, in_tenant):  # noqa: F811
    account_id = _start(console_a)
    page = console_a.get(f"/app/setup/{account_id}/step/5/").content.decode()
    assert 'name="call_reply_enabled"' in page and 'name="call_reply_message"' in page

    refused = _save(console_a, account_id, 5, {"call_reply_enabled": "on", "timezone": "UTC"}).content.decode()
    assert "Required when the call reply is on" in _field_errors(refused, "call_reply_message")
    _save(console_a, account_id, 5, {"call_reply_enabled": "on", "call_reply_message": REPLY, "timezone": "UTC",
                                     "call_reply_interval_minutes": "120"})

    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get(pk=account_id)
    assert (account.call_reply_enabled, account.call_reply_message, account.call_reply_interval_minutes) == (
        True, REPLY, 120)
    assert account.call_reply_template_name == ""
