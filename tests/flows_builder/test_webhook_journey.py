"""WhatsApp Flows through the real webhook endpoint: the Starlink journey and `flows` status changes.

The flow is synced and published at the simulator, sent through the send pipeline (the exact Graph
request is checked), and the customer's signed `nfm_reply` comes back through
POST /webhooks/whatsapp/<app_id> on the public host, the journal and its worker, into alpha's schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows_builder.endpoint.keys import endpoint_uri_for
from flows_builder.models import FlowResponse, FlowToken, InstallationRequest, WhatsAppFlow
from flows_builder.sending import flow_send
from flows_builder.sync import flow_sync
from messaging.models import Message
from tests.factories import ConversationFactory
from tests.flows_builder.factories import WhatsAppFlowFactory
from tests.flows_builder.test_responses import STARLINK_ANSWERS
from tests.messaging.factories import FIXTURE_CUSTOMER
from tests.sending.helpers import drain, graph_sends
from tests.webhooks import conftest as webhook_fixtures
from tests.webhooks.conftest import process_journal

# The webhook tests' fixtures, reused as they are (pytest finds fixtures among a module's names):
# the platform Meta app and its signer, and alpha owning the recorded fixtures' WABA and number.
_fresh_app_cache = webhook_fixtures._fresh_app_cache
meta_app = webhook_fixtures.meta_app
public_client = webhook_fixtures.public_client
webhook = webhook_fixtures.webhook
number_a = webhook_fixtures.number_a

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def nfm_reply_body(*, flow_token: str, answers: dict, context_wamid: str) -> bytes:
    """The recorded nfm_reply webhook carrying our token and answers, replying to our sent message."""
    body = _fixture("message_interactive_nfm_reply.json")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["context"]["id"] = context_wamid
    message["interactive"]["nfm_reply"]["response_json"] = json.dumps({"flow_token": flow_token, **answers})
    return json.dumps(body).encode()


def flows_status_body(*, meta_flow_id: str, old_status: str, new_status: str) -> bytes:
    body = _fixture("flows_status_change.json")
    value = body["entry"][0]["changes"][0]["value"]
    value.update(flow_id=meta_flow_id, old_status=old_status, new_status=new_status,
                 message=f"Flow changed status from {old_status} to {new_status}")
    return json.dumps(body).encode()


@pytest.fixture
def flows_sim(graph_simulator, number_a):
    """The simulator knows alpha's fixture WABA, its number and token (to create, publish and send)."""
    account = number_a.account
    graph_simulator.seed(
        {
            "apps": [{"app_id": account.app_id, "app_secret": "journey-app-secret"}],
            "wabas": [
                {
                    "id": account.waba_id,
                    "app_id": account.app_id,
                    "phone_numbers": [
                        {"id": number_a.phone_number_id, "display_phone_number": number_a.display_phone_number}
                    ],
                }
            ],
            "tokens": [
                {"token": account.access_token.reveal(), "app_id": account.app_id, "waba_ids": [account.waba_id]}
            ],
        }
    )
    return graph_simulator


@pytest.fixture
def published_starlink(tenant_a, in_tenant, number_a, flows_sim):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=number_a.account)
        outcome = flow_sync(flow=flow, publish=True)
        flow.refresh_from_db()
    assert outcome.published and flow.meta_status == "PUBLISHED" and flow.meta_flow_id
    return flow


def test_starlink_journey_from_send_to_installation_request_through_the_webhook_endpoint(
    tenant_a, in_tenant, number_a, flows_sim, published_starlink, webhook
):
    flow = published_starlink
    with in_tenant(tenant_a):
        conversation = ConversationFactory(
            window_open=True, phone_number=number_a, contact__wa_id=FIXTURE_CUSTOMER,
            contact__profile_name="Kerry Fisher",
        )
        contact = conversation.contact
        queued = flow_send(
            flow=flow, contact=contact, phone_number=number_a, header="Starlink installation",
            body="Book your installation in a few taps.", footer="Alpha Solar", cta="Book now",
        )
    drain(tenant_a)
    with in_tenant(tenant_a):
        sent = Message.objects.get(pk=queued.message.pk)
        token = FlowToken.objects.get(flow=flow, contact=contact).token

    # The exact interactive flow message that reached the Graph API.
    requests = graph_sends(flows_sim, number_a)
    assert [r["status"] for r in requests] == [200] and sent.status == "sent" and sent.wamid
    body = requests[0]["body"]
    body.pop("biz_opaque_callback_data", None)  # the pipeline's own correlation id
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": FIXTURE_CUSTOMER,
        "type": "interactive",
        "interactive": {
            "type": "flow",
            "header": {"type": "text", "text": "Starlink installation"},
            "body": {"text": "Book your installation in a few taps."},
            "footer": {"text": "Alpha Solar"},
            "action": {
                "name": "flow",
                "parameters": {
                    "flow_message_version": "3",
                    "flow_token": token,
                    "flow_id": flow.meta_flow_id,
                    "flow_cta": "Book now",
                    "mode": "published",
                    "flow_action": "navigate",
                    "flow_action_payload": {"screen": "CUSTOMER_INFO"},
                },
            },
        },
    }

    # The customer completes the flow: Meta posts the signed nfm_reply.
    reply = nfm_reply_body(flow_token=token, answers=STARLINK_ANSWERS, context_wamid=sent.wamid)
    assert webhook.post(reply).status_code == 200
    process_journal()

    with in_tenant(tenant_a):
        response = FlowResponse.objects.get()
        request = InstallationRequest.objects.get()
        inbound = Message.objects.get(direction="in")
    assert response.processed and response.flow_id == flow.pk and response.contact_id == contact.pk
    assert response.response_data["kit_type"] == "standard_actuated"
    assert inbound.type == "interactive" and inbound.context_wamid == sent.wamid
    assert request.flow_response_id == response.pk and request.contact_id == contact.pk
    typed = ("kit_type", "mount_location", "time_slot", "street", "city", "region", "postal_code", "notes")
    assert {field: getattr(request, field) for field in typed} == {field: STARLINK_ANSWERS[field] for field in typed}
    assert (request.kind, request.status, request.customer_name, request.preferred_date.isoformat()) == (
        "starlink", "new", STARLINK_ANSWERS["full_name"], STARLINK_ANSWERS["preferred_date"],
    )
    # Normalised on the way in: E.164 phone, lower-case email.
    assert (request.customer_phone, request.customer_email) == ("+16315551181", "kerry.fisher@example.com")

    # Meta delivers the same webhook again: nothing changes.
    assert webhook.post(reply).status_code == 200
    process_journal()
    with in_tenant(tenant_a):
        assert FlowResponse.objects.count() == 1 and InstallationRequest.objects.count() == 1
        assert Message.objects.filter(direction="in").count() == 1
        again = InstallationRequest.objects.get()
    assert again.pk == request.pk and again.updated_at == request.updated_at


def test_flows_status_webhook_updates_the_tenants_flow(tenant_a, tenant_b, in_tenant, number_a,
                                                      published_starlink, webhook):
    flow = published_starlink
    with in_tenant(tenant_b):  # beta happens to hold a row with the same Meta id: not touched
        beta_flow = WhatsAppFlowFactory(account__waba_id="209999999999999", meta_flow_id=flow.meta_flow_id,
                                        meta_status="PUBLISHED", sync_status="published")

    assert webhook.post(flows_status_body(meta_flow_id=flow.meta_flow_id, old_status="PUBLISHED",
                                          new_status="THROTTLED")).status_code == 200
    assert webhook.post(flows_status_body(meta_flow_id=flow.meta_flow_id, old_status="THROTTLED",
                                          new_status="DEPRECATED")).status_code == 200
    process_journal()

    with in_tenant(tenant_a):
        flow.refresh_from_db()
    with in_tenant(tenant_b):
        beta_flow.refresh_from_db()
    assert (flow.meta_status, flow.sync_status) == ("DEPRECATED", "published")
    assert (beta_flow.meta_status, beta_flow.sync_status) == ("PUBLISHED", "published")


def test_flows_status_webhook_publishes_a_draft_and_ignores_unknown_flows(tenant_a, in_tenant, number_a, webhook):
    with in_tenant(tenant_a):
        draft = WhatsAppFlowFactory(account=number_a.account, meta_flow_id="1097420589034000",
                                    meta_status="DRAFT", sync_status="draft")
    fixture = (FIXTURES / "flows_status_change.json").read_bytes()  # DRAFT -> PUBLISHED for that id
    unknown = flows_status_body(meta_flow_id="1999999999999999", old_status="DRAFT", new_status="PUBLISHED")
    assert webhook.post(fixture).status_code == 200 and webhook.post(unknown).status_code == 200
    process_journal()

    with in_tenant(tenant_a):
        draft.refresh_from_db()
        assert WhatsAppFlow.objects.count() == 1
    assert (draft.meta_status, draft.sync_status) == ("PUBLISHED", "published")


def test_flows_endpoint_uri_defaults_to_the_public_base_url_and_follows_its_setting(
    tenant_a, in_tenant, number_a, settings
):
    path = f"/flows/endpoint/alpha/{number_a.phone_number_id}"
    with in_tenant(tenant_a):
        settings.FLOWS_ENDPOINT_BASE_URL = ""
        assert endpoint_uri_for(phone_number=number_a) == f"{settings.PUBLIC_BASE_URL}{path}"
        settings.FLOWS_ENDPOINT_BASE_URL = "https://flows.example.com/"
        assert endpoint_uri_for(phone_number=number_a) == f"https://flows.example.com{path}"
