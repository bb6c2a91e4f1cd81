"""Flow responses into business records: the Starlink journey, processors, failures and reprocessing."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

from flows_builder.definitions import BUILTIN_FLOWS
from flows_builder.errors import FlowResponseAlreadyProcessed
from flows_builder.models import (
    CleaningRequest,
    FlowResponse,
    FlowToken,
    InstallationRequest,
    TimeSlot,
)
from flows_builder.processors import FLOW_PROCESSORS
from flows_builder.responses import (
    flow_response_mark_processed,
    flow_response_record,
    flow_response_reprocess,
    handle_inbound_nfm_reply,
)
from flows_builder.sending import flow_message_build
from flows_builder.sync import flow_sync
from messaging.models import Conversation, Message
from tests.flows_builder.factories import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    FlowTokenFactory,
    WhatsAppFlowFactory,
)
from waba.graph import GraphClient
from waba.webhook_events import InboundMessage, parse_envelope

FIXTURE = Path(__file__).parents[1] / "fixtures" / "webhooks" / "message_interactive_nfm_reply.json"

STARLINK_ANSWERS = {
    "full_name": "Kerry Fisher",
    "phone": "+1 631 555 1181",
    "email": "Kerry.Fisher@example.com",
    "kit_type": "standard_actuated",
    "mount_location": "roof",
    "preferred_date": "2026-12-03",
    "time_slot": "morning",
    "street": "12 Ocean View Road",
    "city": "Montauk",
    "region": "NY",
    "postal_code": "11954",
    "notes": "Gate code 4821",
}
CLEANING_ANSWERS = {
    **{k: STARLINK_ANSWERS[k] for k in ("full_name", "phone", "email", "preferred_date", "time_slot")},
    **{k: STARLINK_ANSWERS[k] for k in ("street", "city", "region", "postal_code", "notes")},
    "roof_type": "pitched_tile",
    "panel_type": "monocrystalline",
    "panel_count": "24",
}


def nfm_reply_envelope(answers: dict, flow_token: str, wamid: str | None = None) -> dict:
    """The recorded Meta fixture with our flow's answers and token in its response_json."""
    envelope = json.loads(FIXTURE.read_text())
    message = envelope["entry"][0]["changes"][0]["value"]["messages"][0]
    message["interactive"]["nfm_reply"]["response_json"] = json.dumps({"flow_token": flow_token, **answers})
    if wamid:
        message["id"] = wamid
    return envelope


def store_inbound(event: InboundMessage, contact, phone_number) -> Message:
    """What messaging's inbound pipeline does before calling the flows hook."""
    conversation, _ = Conversation.objects.get_or_create(contact=contact, phone_number=phone_number)
    message, _ = Message.objects.get_or_create(
        wamid=event.wamid,
        defaults={
            "conversation": conversation,
            "contact": contact,
            "phone_number": phone_number,
            "direction": Message.Direction.INBOUND,
            "type": event.type,
            "content": event.content,
            "status": Message.Status.RECEIVED,
            "timestamp": event.timestamp,
        },
    )
    return message


def test_starlink_journey(sim, tenant_a, in_tenant, alpha_account, alpha_number, alpha_contact):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=alpha_account)
        flow_sync(flow=flow, publish=True)
        payload = flow_message_build(
            flow=flow, contact=alpha_contact, body="Book your Starlink installation.", cta="Book now"
        )
        token = payload["interactive"]["action"]["parameters"]["flow_token"]

    # Meta (the simulator) accepts the message as built; the send pipeline will carry it in production.
    sent = GraphClient(ACCESS_TOKEN).send_message(PHONE_NUMBER_ID, payload)
    assert sent["messages"][0]["id"].startswith("wamid.")
    [request] = sim.requests(path_contains=f"{PHONE_NUMBER_ID}/messages")
    assert request["body"]["interactive"]["action"]["parameters"]["flow_id"] == flow.meta_flow_id

    [event] = parse_envelope(nfm_reply_envelope(STARLINK_ANSWERS, token))
    assert event.content["kind"] == "nfm_reply" and event.content["flow_token"] == token
    with in_tenant(tenant_a):
        message = store_inbound(event, alpha_contact, alpha_number)
        response = handle_inbound_nfm_reply(message)
        request_row = InstallationRequest.objects.get()
        token_row = FlowToken.objects.get(token=token)

    assert response.processed and response.flow_id == flow.pk and response.wamid == event.wamid
    assert response.response_data == {"flow_token": token, **STARLINK_ANSWERS}
    assert (
        response.record_type == "flows_builder.installationrequest" and response.record_id == request_row.pk
    )
    assert token_row.used_at is not None
    assert (
        request_row.kind,
        request_row.customer_name,
        request_row.customer_phone,
        request_row.customer_email,
        request_row.kit_type,
        request_row.mount_location,
        request_row.preferred_date,
        request_row.time_slot,
        request_row.street,
        request_row.city,
        request_row.region,
        request_row.postal_code,
        request_row.notes,
        request_row.status,
        request_row.contact_id,
        request_row.flow_response_id,
    ) == (
        "starlink",
        "Kerry Fisher",
        "+16315551181",
        "kerry.fisher@example.com",
        "standard_actuated",
        "roof",
        date(2026, 12, 3),
        TimeSlot.MORNING,
        "12 Ocean View Road",
        "Montauk",
        "NY",
        "11954",
        "Gate code 4821",
        "new",
        alpha_contact.pk,
        response.pk,
    )

    # Meta delivers the same webhook again: nothing new anywhere.
    [again] = parse_envelope(nfm_reply_envelope(STARLINK_ANSWERS, token))
    with in_tenant(tenant_a):
        replayed = flow_response_record(
            wamid=again.wamid, contact=alpha_contact, response=again.content["response"]
        )
        assert handle_inbound_nfm_reply(store_inbound(again, alpha_contact, alpha_number)).pk == response.pk
        assert replayed.pk == response.pk
        assert FlowResponse.objects.count() == 1 and InstallationRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("definition", "answers", "model"),
    [
        ("solar_panel_cleaning", CLEANING_ANSWERS, CleaningRequest),
        (
            "solar_installation",
            {
                **CLEANING_ANSWERS,
                "installation_type": "off_grid",
                "order_number": "SO-2291",
                "phone": "631 555 1181",
            },
            InstallationRequest,
        ),
    ],
)
def test_solar_flows_create_their_records(
    tenant_a, in_tenant, alpha_account, alpha_contact, definition, answers, model
):
    with in_tenant(tenant_a):
        token = FlowTokenFactory(
            flow=WhatsAppFlowFactory(account=alpha_account, definition=definition), contact=alpha_contact
        )
        response = flow_response_record(
            wamid=f"wamid.{definition}",
            contact=alpha_contact,
            response={"flow_token": token.token, **answers},
        )
        record = model.objects.get()
    assert response.processed and response.record_id == record.pk
    assert (
        record.customer_phone == "+16315551181"
    )  # a number without country code read in the contact's country
    if model is CleaningRequest:
        assert (record.roof_type, record.panel_type, record.panel_count) == (
            "pitched_tile",
            "monocrystalline",
            24,
        )
    else:
        assert (record.kind, record.installation_type, record.order_number) == (
            "solar_installation",
            "off_grid",
            "SO-2291",
        )


def test_invalid_answers_keep_the_data_and_the_errors_then_reprocess(
    tenant_a, in_tenant, alpha_account, alpha_contact
):
    bad = {**STARLINK_ANSWERS, "kit_type": "huge_dish", "phone": "12", "preferred_date": "next tuesday"}
    with in_tenant(tenant_a):
        token = FlowTokenFactory(flow=WhatsAppFlowFactory(account=alpha_account), contact=alpha_contact)
        response = flow_response_record(
            wamid="wamid.bad", contact=alpha_contact, response={"flow_token": token.token, **bad}
        )
        assert not response.processed and not InstallationRequest.objects.exists()
        assert response.response_data["kit_type"] == "huge_dish"  # nothing the customer sent is lost
        assert {e["field"] for e in response.processing_errors} == {"kit_type", "phone", "preferred_date"}
        assert "Processing failed: 3 invalid field(s)" in response.processing_notes

        # Fixed by hand (e.g. after a call with the customer), then reprocessed.
        response.response_data.update(kit_type="mini", phone="+16315551181", preferred_date="2026-12-04")
        response.save()
        flow_response_reprocess(response=response)
        record = InstallationRequest.objects.get()
        assert response.processed and response.record_id == record.pk and record.kit_type == "mini"
        with pytest.raises(FlowResponseAlreadyProcessed):
            flow_response_reprocess(response=response)
        assert InstallationRequest.objects.count() == 1


def test_processor_bug_and_unknown_token_never_lose_the_response(
    tenant_a, in_tenant, alpha_account, alpha_contact
):
    with in_tenant(tenant_a):
        unknown = flow_response_record(
            wamid="wamid.unknown", contact=alpha_contact, response={"flow_token": "ft_nope", "a": 1}
        )
        assert (
            unknown.flow is None
            and not unknown.processed
            and unknown.response_data == {"flow_token": "ft_nope", "a": 1}
        )
        assert "No flow matches this flow_token" in unknown.processing_notes

        flow = WhatsAppFlowFactory(account=alpha_account, name="survey", flow_definition_name=None)
        token = FlowTokenFactory(flow=flow, contact=alpha_contact)

        @FLOW_PROCESSORS.register("survey")
        def broken(response):
            raise KeyError("customer secret answer")

        try:
            failed = flow_response_record(
                wamid="wamid.survey", contact=alpha_contact, response={"flow_token": token.token}
            )
        finally:
            FLOW_PROCESSORS.unregister("survey")
        assert not failed.processed and "unexpected KeyError" in failed.processing_notes
        assert "customer secret answer" not in failed.processing_notes

        # No processor for a flow: stored and closed, can be reprocessed once one exists.
        stored_only = flow_response_record(
            wamid="wamid.survey2",
            contact=alpha_contact,
            response={"flow_token": FlowTokenFactory(flow=flow, contact=alpha_contact).token},
        )
        assert (
            stored_only.processed
            and "No processor is registered for flow 'survey'" in stored_only.processing_notes
        )

        manual = flow_response_mark_processed(response=failed, note="Handled on the phone.")
        assert manual.processed and manual.processing_notes.endswith("Handled on the phone.")


def test_processor_registry_refuses_a_second_processor_for_a_flow():
    with pytest.raises(ValueError, match="already registered for flow 'starlink_installation'"):
        FLOW_PROCESSORS.register("starlink_installation")(lambda response: None)


def test_record_choices_match_the_builtin_flow_options():
    def options(definition: str, field: str) -> set[str]:
        found: set[str] = set()

        def walk(value):
            if isinstance(value, dict):
                if value.get("name") == field and isinstance(value.get("data-source"), list):
                    found.update(option["id"] for option in value["data-source"])
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(copy.deepcopy(BUILTIN_FLOWS[definition].flow_json))
        return found

    assert options("starlink_installation", "kit_type") == set(InstallationRequest.KitType.values)
    assert options("starlink_installation", "mount_location") == set(InstallationRequest.MountLocation.values)
    assert options("solar_installation", "installation_type") == set(
        InstallationRequest.InstallationType.values
    )
    assert options("solar_panel_cleaning", "roof_type") == set(CleaningRequest.RoofType.values)
    assert options("solar_panel_cleaning", "panel_type") == set(CleaningRequest.PanelType.values)
    for definition in ("starlink_installation", "solar_panel_cleaning", "solar_installation"):
        assert options(definition, "time_slot") == set(TimeSlot.values)


def test_expired_token_response_is_still_recorded(tenant_a, in_tenant, alpha_account, alpha_contact):
    with in_tenant(tenant_a):
        token = FlowTokenFactory(
            flow=WhatsAppFlowFactory(account=alpha_account),
            contact=alpha_contact,
            expires_at=timezone.now() - timezone.timedelta(days=1),
        )
        response = flow_response_record(
            wamid="wamid.late",
            contact=alpha_contact,
            response={"flow_token": token.token, **STARLINK_ANSWERS},
        )
    assert response.processed  # the customer did submit: a late answer is still an answer
