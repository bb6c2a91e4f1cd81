"""Marketing consent: recorded by the business (console, API) and by the customer through Meta's
`user_preferences` webhook, in one history; either opt-out makes the send path refuse MARKETING
templates with `contact_opted_out`, through the same flag."""

from __future__ import annotations

import json

from contacts import services
from contacts.models import ConsentEvent
from messaging.models import Contact, Message
from tests.fixtures import load_webhook_fixture, load_webhook_fixture_bytes
from tests.sending.factories import ContactFactory, TemplateFactory
from tests.webhooks.conftest import process_journal

KERRY = "16315551181"  # the customer of the user_preferences fixture


def send_marketing(api, number, template):
    return api.post_json(
        "/api/v1/messages",
        {
            "phone_number_id": number.phone_number_id,
            "to": f"+{KERRY}",
            "type": "template",
            "template": {"name": template.name, "language": "en_US", "body_parameters": ["a", "b"]},
        },
    )


def assert_marketing_refused(api, number, template, tenant, in_tenant):
    response = send_marketing(api, number, template)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "contact_opted_out"
    assert "opted out of marketing" in error["message"]
    with in_tenant(tenant):
        assert not Message.objects.exists()


def test_meta_stop_is_recorded_in_the_history_once_and_refuses_marketing(
    webhook, number_a, tenant_a, in_tenant, api_a
):
    with in_tenant(tenant_a):
        promo = TemplateFactory(account=number_a.account, category="MARKETING")
    webhook.post(load_webhook_fixture_bytes("user_preferences_stop"))
    process_journal()
    webhook.post(load_webhook_fixture_bytes("user_preferences_stop"))  # Meta delivers again
    process_journal()

    with in_tenant(tenant_a):
        contact = Contact.objects.get(wa_id=KERRY)
        events = list(ConsentEvent.objects.filter(contact=contact))
    assert contact.opted_out is True
    assert [(event.kind, event.source, int(event.occurred_at.timestamp())) for event in events] == [
        ("opt_out", "meta", 1750270140)
    ]
    assert_marketing_refused(api_a, number_a, promo, tenant_a, in_tenant)

    detail = api_a.get(f"/api/v1/contacts/{contact.pk}").json()
    assert detail["opt_in"] == "opted_out"
    history = api_a.get(f"/api/v1/contacts/{contact.pk}/consent").json()["items"]
    assert history[0]["source"] == "meta"

    resume = load_webhook_fixture("user_preferences_stop")
    preference = resume["entry"][0]["changes"][0]["value"]["user_preferences"][0]
    preference.update(value="resume", timestamp=1750270200)
    webhook.post(json.dumps(resume))
    process_journal()
    with in_tenant(tenant_a):
        contact.refresh_from_db()
        kinds = list(ConsentEvent.objects.filter(contact=contact).values_list("kind", flat=True))
    assert contact.opted_out is False
    assert kinds == ["opt_in", "opt_out"]
    assert send_marketing(api_a, number_a, promo).status_code == 202


def test_business_opt_out_refuses_marketing_and_an_older_meta_resume_does_not_undo_it(
    webhook, number_a, tenant_a, in_tenant, api_a
):
    with in_tenant(tenant_a):
        promo = TemplateFactory(account=number_a.account, category="MARKETING")
        contact = ContactFactory(wa_id=KERRY)
    recorded = api_a.post_json(f"/api/v1/contacts/{contact.pk}/consent", {"kind": "opt_out"})
    assert recorded.status_code == 201
    assert_marketing_refused(api_a, number_a, promo, tenant_a, in_tenant)

    older_resume = load_webhook_fixture("user_preferences_stop")
    preference = older_resume["entry"][0]["changes"][0]["value"]["user_preferences"][0]
    preference.update(value="resume", timestamp=1750270000)  # 2025: before the business's opt-out
    webhook.post(json.dumps(older_resume))
    process_journal()
    with in_tenant(tenant_a):
        contact.refresh_from_db()
        sources = list(ConsentEvent.objects.filter(contact=contact).values_list("source", "kind"))
    assert contact.opted_out is True
    assert sources == [("api", "opt_out"), ("meta", "opt_in")]  # newest first: the history keeps both
    assert_marketing_refused(api_a, number_a, promo, tenant_a, in_tenant)


def test_business_opt_in_clears_the_opt_out(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        contact = ContactFactory(opted_out=True)
        services.consent_record(
            contact=contact, kind="opt_in", actor=services.Actor("console", "maria"), note="signed the form"
        )
        contact.refresh_from_db()
        event = ConsentEvent.objects.get(contact=contact)
    assert contact.opted_out is False and contact.opted_in_at is not None
    assert (event.source, event.recorded_by, event.note) == ("console", "maria", "signed the form")
