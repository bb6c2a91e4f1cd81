"""The contacts API: CRUD with its validation errors, search, filters and cursor pages, typed
attributes, tags, block, totals, export, deletion and isolation between workspaces."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import AttributeDefinition, ConsentEvent
from messaging.models import Contact, Conversation, Message
from tests.messaging.factories import ContactFactory, ConversationFactory, MessageFactory


def error_of(response, status, code):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def fields_of(error):
    return {detail["field"]: detail for detail in error["details"]}


@pytest.fixture
def attributes_a(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        AttributeDefinition.objects.create(key="city", label="City", type="text")
        AttributeDefinition.objects.create(key="orders", label="Orders", type="number")
        AttributeDefinition.objects.create(key="birthday", label="Birthday", type="date")
        AttributeDefinition.objects.create(key="vip", label="VIP", type="boolean")
        AttributeDefinition.objects.create(key="plan", label="Plan", type="choice", choices=["basic", "pro"])


def test_create_normalises_the_number_and_stores_profile_attributes_and_tags(
    api_a, tenant_a, in_tenant, attributes_a
):
    response = api_a.post_json(
        "/api/v1/contacts",
        {
            "phone": "0151 1234 5678",
            "default_country": "DE",
            "profile_name": "Jana Weber",
            "tier": "gold",
            "notes": "Prefers mornings",
            "language": "de",
            "timezone": "Europe/Berlin",
            "attributes": {
                "city": "Berlin",
                "orders": "12",
                "birthday": "1990-04-01",
                "vip": "yes",
                "plan": "pro",
            },
            "tags": ["VIP", " newsletter ", "vip"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["wa_id"] == "4915112345678"
    assert body["phone"] == "+4915112345678"
    assert body["attributes"] == {
        "city": "Berlin",
        "orders": 12,
        "birthday": "1990-04-01",
        "vip": True,
        "plan": "pro",
    }
    assert body["tags"] == ["vip", "newsletter"]
    assert body["opt_in"] == "unknown"
    assert body["totals"] == {
        "messages_in": 0,
        "messages_out": 0,
        "last_inbound_at": None,
        "last_outbound_at": None,
    }
    with in_tenant(tenant_a):
        stored = Contact.objects.get(wa_id="4915112345678")
    assert (stored.profile_name, stored.tier, stored.timezone) == ("Jana Weber", "gold", "Europe/Berlin")

    again = api_a.post_json("/api/v1/contacts", {"phone": "+49 151 12345678"})
    error_of(again, 409, "contact_exists")


def test_create_names_every_invalid_field(api_a, attributes_a):
    response = api_a.post_json(
        "/api/v1/contacts",
        {
            "phone": "12",
            "language": "German!",
            "timezone": "Mars/Olympus",
            "attributes": {
                "orders": "many",
                "birthday": "01/04/1990",
                "vip": "perhaps",
                "plan": "gold",
                "shoe": "42",
            },
        },
    )
    fields = fields_of(error_of(response, 422, "validation_error"))
    assert fields["phone"]["type"] == "not_a_number"
    assert set(fields) == {
        "phone",
        "language",
        "timezone",
        "attributes.orders",
        "attributes.birthday",
        "attributes.vip",
        "attributes.plan",
        "attributes.shoe",
    }
    assert fields["attributes.plan"]["message"] == "must be one of: basic, pro"
    assert fields["attributes.shoe"]["type"] == "unknown_attribute"
    error_of(api_a.post_json("/api/v1/contacts", {}), 422, "validation_error")


def test_get_edit_tags_block_and_delete(api_a, tenant_a, in_tenant, attributes_a, number_a):
    with in_tenant(tenant_a):
        contact = ContactFactory(wa_id="14155550123", profile_name="Alex")
        conversation = ConversationFactory(phone_number=number_a, contact=contact)
        MessageFactory(conversation=conversation, body="hi")
        MessageFactory(conversation=conversation, direction="out", status="sent", body="hello")
    path = f"/api/v1/contacts/{contact.pk}"
    body = api_a.get(path).json()
    assert body["totals"]["messages_in"] == 1 and body["totals"]["messages_out"] == 1
    assert body["totals"]["last_inbound_at"]

    edited = api_a.patch_json(path, {"tier": "silver", "attributes": {"city": "Oslo", "orders": 3}})
    assert edited.status_code == 200
    assert edited.json()["attributes"] == {"city": "Oslo", "orders": 3}
    removed = api_a.patch_json(path, {"attributes": {"city": None}}).json()
    assert removed["attributes"] == {"orders": 3} and removed["tier"] == "silver"
    error_of(api_a.patch_json(path, {"attributes": {"orders": "lots"}}), 422, "validation_error")

    assert api_a.post_json(f"{path}/tags", {"tags": ["Lead", "b2b"]}).json()["tags"] == ["lead", "b2b"]
    assert api_a.delete(f"{path}/tags/lead").json()["tags"] == ["b2b"]
    assert api_a.post_json(f"{path}/block").json()["blocked"] is True
    assert api_a.post_json(f"{path}/unblock").json()["blocked"] is False

    assert api_a.delete(path).status_code == 204
    with in_tenant(tenant_a):
        assert not Contact.objects.filter(pk=contact.pk).exists()
        assert not Conversation.objects.filter(pk=conversation.pk).exists()
        assert not Message.objects.filter(contact_id=contact.pk).exists()
    error_of(api_a.get(path), 404, "contact_not_found")


def test_another_workspace_contact_is_not_found(api_a, api_b, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        theirs = ContactFactory(wa_id="4930123456")
    for response in (
        api_a.get(f"/api/v1/contacts/{theirs.pk}"),
        api_a.patch_json(f"/api/v1/contacts/{theirs.pk}", {"tier": "x"}),
        api_a.delete(f"/api/v1/contacts/{theirs.pk}"),
        api_a.post_json(f"/api/v1/contacts/{theirs.pk}/consent", {"kind": "opt_out"}),
    ):
        error_of(response, 404, "contact_not_found")
    with in_tenant(tenant_b):
        assert Contact.objects.get(pk=theirs.pk).tier == ""
    assert api_b.get(f"/api/v1/contacts/{theirs.pk}").status_code == 200


def test_search_filters_and_cursor_pages(api_a, tenant_a, in_tenant, attributes_a):
    now = timezone.now()
    with in_tenant(tenant_a):
        ada = ContactFactory(
            wa_id="447700900001",
            profile_name="Ada Lovelace",
            tags=["vip"],
            attributes={"plan": "pro", "orders": 5},
            last_seen_at=now - timedelta(days=2),
        )
        bob = ContactFactory(
            wa_id="447700900002",
            profile_name="Bob",
            tags=["lead"],
            opted_out=True,
            attributes={"plan": "basic"},
            last_seen_at=now - timedelta(days=40),
        )
        cy = ContactFactory(
            wa_id="491701234567", profile_name="Cy", blocked=True, opted_in_at=now, last_seen_at=None
        )
        extra = [
            ContactFactory(wa_id=f"3312345670{n}", profile_name=f"Extra {n}", last_seen_at=None)
            for n in range(5)
        ]

    def ids(**query):
        response = api_a.get("/api/v1/contacts", query)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(search="lovelace") == [ada.pk]
    assert ids(search="+44 7700") == [bob.pk, ada.pk]
    assert ids(tag="VIP") == [ada.pk]
    assert ids(opt_in="opted_out") == [bob.pk]
    assert ids(opt_in="opted_in") == [cy.pk]
    assert ids(blocked="true") == [cy.pk]
    assert ids(attribute="plan", attribute_value="pro") == [ada.pk]
    assert ids(attribute="orders", attribute_value="5") == [ada.pk]
    assert ids(inbound_within_days=7) == [ada.pk]
    assert set(ids(inbound_within_days=60)) == {ada.pk, bob.pk}
    error_of(
        api_a.get("/api/v1/contacts", {"attribute": "nope", "attribute_value": "1"}), 422, "validation_error"
    )
    error_of(
        api_a.get("/api/v1/contacts", {"attribute": "orders", "attribute_value": "x"}),
        422,
        "validation_error",
    )
    error_of(api_a.get("/api/v1/contacts", {"opt_in": "maybe"}), 422, "validation_error")

    seen, cursor = [], None
    while True:
        page = api_a.get("/api/v1/contacts", {"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    everyone = [ada.pk, bob.pk, cy.pk, *[contact.pk for contact in extra]]
    assert seen == sorted(everyone, reverse=True)
    error_of(api_a.get("/api/v1/contacts", {"cursor": "garbage"}), 422, "invalid_cursor")


def test_attribute_definitions_are_typed_and_deleting_one_clears_its_values(api_a, tenant_a, in_tenant):
    created = api_a.post_json(
        "/api/v1/contacts/attributes",
        {"key": "plan", "label": "Plan", "type": "choice", "choices": ["basic", "pro", "pro"]},
    )
    assert created.status_code == 201
    assert created.json()["choices"] == ["basic", "pro"]
    fields = fields_of(
        error_of(
            api_a.post_json(
                "/api/v1/contacts/attributes",
                {"key": "Bad Key", "label": "", "type": "choice", "choices": []},
            ),
            422,
            "validation_error",
        )
    )
    assert set(fields) == {"key", "label", "choices"}
    error_of(
        api_a.post_json("/api/v1/contacts/attributes", {"key": "plan", "label": "Plan", "type": "text"}),
        422,
        "validation_error",
    )
    with in_tenant(tenant_a):
        contact = ContactFactory(attributes={"plan": "pro", "keep": 1})
    definition_id = created.json()["id"]
    assert (
        api_a.patch_json(f"/api/v1/contacts/attributes/{definition_id}", {"label": "Subscription"}).json()[
            "label"
        ]
        == "Subscription"
    )
    assert api_a.delete(f"/api/v1/contacts/attributes/{definition_id}").status_code == 204
    with in_tenant(tenant_a):
        contact.refresh_from_db()
    assert contact.attributes == {"keep": 1}
    error_of(api_a.delete(f"/api/v1/contacts/attributes/{definition_id}"), 404, "attribute_not_found")


def test_export_streams_the_filtered_list_as_csv(api_a, tenant_a, in_tenant, attributes_a):
    with in_tenant(tenant_a):
        ContactFactory(
            wa_id="447700900001", profile_name="=HYPERLINK()", tags=["vip", "b2b"], attributes={"plan": "pro"}
        )
        ContactFactory(wa_id="447700900002", profile_name="Bob")
    response = api_a.get("/api/v1/contacts/export", {"tag": "vip"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["phone"] == "+447700900001"
    assert rows[0]["name"] == "'=HYPERLINK()"
    assert rows[0]["tags"] == "vip;b2b"
    assert rows[0]["attr:plan"] == "pro"


def test_consent_recorded_by_the_business_through_the_api(api_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        contact = ContactFactory()
    recorded = api_a.post_json(
        f"/api/v1/contacts/{contact.pk}/consent", {"kind": "opt_out", "note": "asked by phone"}
    )
    assert recorded.status_code == 201
    assert recorded.json()["source"] == "api"
    assert recorded.json()["recorded_by"].startswith("api-key:")
    assert api_a.get(f"/api/v1/contacts/{contact.pk}").json()["opt_in"] == "opted_out"
    history = api_a.get(f"/api/v1/contacts/{contact.pk}/consent").json()["items"]
    assert [event["kind"] for event in history] == ["opt_out"]
    with in_tenant(tenant_a):
        assert ConsentEvent.objects.get().note == "asked by phone"
    error_of(
        api_a.post_json(f"/api/v1/contacts/{contact.pk}/consent", {"kind": "maybe"}), 422, "validation_error"
    )
