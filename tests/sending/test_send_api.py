"""POST /api/v1/messages: validation against Meta's rules, the 24-hour window, opt-outs, quotas, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Contact, Conversation, Message
from tests.sending.factories import ContactFactory, ConversationFactory, TemplateFactory
from waba.models import WhatsAppAccount

CUSTOMER = "+49 151 12345678"
CUSTOMER_WA_ID = "4915112345678"


def send(api, number, idempotency_key=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    return api.post_json("/api/v1/messages", {"phone_number_id": number.phone_number_id, **body}, **headers)


def text_to(window, body="Your table is ready."):
    return {"to": "+" + window.contact.wa_id, "type": "text", "text": {"body": body}}


def messages_in(tenant, in_tenant):
    with in_tenant(tenant):
        return list(Message.objects.order_by("id"))


# --- what gets queued -------------------------------------------------------------------------------


def test_a_text_inside_the_window_is_queued_with_the_exact_graph_request(api_a, tenant_a, in_tenant, number_a, open_window_a):
    response = send(api_a, number_a, **text_to(open_window_a), context={"message_id": "wamid.IN1"})

    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["to"] == "+" + open_window_a.contact.wa_id
    with in_tenant(tenant_a):
        message = Message.objects.get(pk=body["id"])
        assert message.direction == "out" and message.status == "queued" and message.type == "text"
        assert message.request_payload == {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": open_window_a.contact.wa_id,
            "type": "text",
            "text": {"body": "Your table is ready.", "preview_url": False},
            "context": {"message_id": "wamid.IN1"},
            "biz_opaque_callback_data": str(message.pk),
        }
        assert message.body == "Your table is ready."
        assert message.context_wamid == "wamid.IN1"
        assert message.conversation == open_window_a
        assert message.next_attempt_at is not None and message.attempts == 0
        conversation = Conversation.objects.get(pk=open_window_a.pk)
        assert conversation.message_count == 1 and conversation.last_message_at is not None


def test_a_template_goes_out_to_a_new_contact_with_its_parameters(api_a, tenant_a, in_tenant, number_a, template_a):
    response = send(
        api_a,
        number_a,
        to=CUSTOMER,
        type="template",
        template={"name": template_a.name, "language": "en_US", "body_parameters": ["Ada", "A-17"]},
    )

    assert response.status_code == 202, response.json()
    with in_tenant(tenant_a):
        message = Message.objects.get(pk=response.json()["id"])
        assert message.request_payload["to"] == CUSTOMER_WA_ID
        assert message.request_payload["template"] == {
            "name": template_a.name,
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "A-17"}]}
            ],
        }
        assert message.template == template_a
        assert message.body == "Hello Ada, your order A-17 is on its way."
        contact = Contact.objects.get(wa_id=CUSTOMER_WA_ID)
        assert Conversation.objects.filter(contact=contact, phone_number=number_a).count() == 1


def test_a_template_with_header_media_and_a_url_button(api_a, tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        template = TemplateFactory(
            account=number_a.account,
            components=[
                {"type": "HEADER", "format": "IMAGE"},
                {"type": "BODY", "text": "Your receipt, {{1}}."},
                {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Open", "url": "https://x.test/r/{{1}}"}]},
            ],
            variable_count=1,
            parameter_counts={"body": 1, "header": 1, "buttons": {"0": 1}},
        )
    image = {"type": "image", "image": {"link": "https://cdn.test/receipt.png"}}
    response = send(
        api_a,
        number_a,
        to=CUSTOMER,
        type="template",
        template={
            "name": template.name,
            "language": "en_US",
            "header_parameters": [image],
            "body_parameters": ["Ada"],
            "buttons": [{"index": 0, "sub_type": "url", "parameters": ["r-991"]}],
        },
    )
    assert response.status_code == 202, response.json()
    with in_tenant(tenant_a):
        components = Message.objects.get(pk=response.json()["id"]).request_payload["template"]["components"]
    assert components == [
        {"type": "header", "parameters": [image]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ada"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "r-991"}]},
    ]


@pytest.mark.parametrize(
    ("message_type", "content", "expected"),
    [
        ("image", {"link": "https://cdn.test/a.jpg", "caption": "Menu"}, {"link": "https://cdn.test/a.jpg", "caption": "Menu"}),
        ("document", {"id": "MEDIA1", "filename": "menu.pdf"}, {"id": "MEDIA1", "filename": "menu.pdf"}),
        ("sticker", {"id": "MEDIA2"}, {"id": "MEDIA2"}),
        ("location", {"latitude": 52.52, "longitude": 13.4, "name": "Shop"}, {"latitude": 52.52, "longitude": 13.4, "name": "Shop"}),
        ("reaction", {"message_id": "wamid.IN2", "emoji": "👍"}, {"message_id": "wamid.IN2", "emoji": "👍"}),
        (
            "interactive",
            {
                "type": "button",
                "body": {"text": "Table for how many?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "two", "title": "Two"}}]},
            },
            {
                "type": "button",
                "body": {"text": "Table for how many?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "two", "title": "Two"}}]},
            },
        ),
    ],
)
def test_every_other_type_is_queued_as_meta_expects_it(api_a, tenant_a, in_tenant, number_a, open_window_a, message_type, content, expected):
    response = send(api_a, number_a, to="+" + open_window_a.contact.wa_id, type=message_type, **{message_type: content})
    assert response.status_code == 202, response.json()
    with in_tenant(tenant_a):
        message = Message.objects.get(pk=response.json()["id"])
    assert message.request_payload[message_type] == expected
    assert message.content == expected


# --- refused before anything is written ----------------------------------------------------------------


def assert_refused(response, status, code, tenant, in_tenant):
    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert messages_in(tenant, in_tenant) == []
    return error


def test_outside_the_window_only_templates_go(api_a, tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        closed = ConversationFactory(
            phone_number=number_a, service_window_expires_at=timezone.now() - timedelta(minutes=5)
        )
    error = assert_refused(send(api_a, number_a, **text_to(closed)), 422, "outside_service_window", tenant_a, in_tenant)
    assert error["details"]["window_expired_at"]
    # A number that never wrote has no window at all.
    assert_refused(send(api_a, number_a, to=CUSTOMER, type="text", text={"body": "Hi"}), 422, "outside_service_window", tenant_a, in_tenant)


def test_an_opted_out_contact_gets_no_marketing_template_but_still_utility(api_a, tenant_a, in_tenant, number_a, template_a):
    with in_tenant(tenant_a):
        ContactFactory(wa_id=CUSTOMER_WA_ID, opted_out=True)
        promo = TemplateFactory(account=number_a.account, category="MARKETING")
    body = {"to": CUSTOMER, "type": "template"}
    marketing = {"name": promo.name, "language": "en_US", "body_parameters": ["a", "b"]}
    assert_refused(send(api_a, number_a, **body, template=marketing), 422, "contact_opted_out", tenant_a, in_tenant)
    utility = {"name": template_a.name, "language": "en_US", "body_parameters": ["a", "b"]}
    assert send(api_a, number_a, **body, template=utility).status_code == 202


def test_a_blocked_contact_gets_nothing_until_unblocked(api_a, tenant_a, in_tenant, number_a, template_a):
    with in_tenant(tenant_a):
        contact = ContactFactory(wa_id=CUSTOMER_WA_ID, blocked=True)
    body = {"to": CUSTOMER, "type": "template"}
    utility = {"name": template_a.name, "language": "en_US", "body_parameters": ["a", "b"]}
    error = assert_refused(send(api_a, number_a, **body, template=utility), 422, "contact_blocked", tenant_a, in_tenant)
    assert "unblock" in error["message"]
    with in_tenant(tenant_a):
        type(contact).objects.filter(pk=contact.pk).update(blocked=False)
    assert send(api_a, number_a, **body, template=utility).status_code == 202


@pytest.mark.parametrize("status", [WhatsAppAccount.Status.UNHEALTHY, WhatsAppAccount.Status.DRAFT])
def test_the_account_must_be_active(api_a, tenant_a, in_tenant, number_a, open_window_a, status):
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=number_a.account_id).update(status=status, status_reason="token expired")
    error = assert_refused(send(api_a, number_a, **text_to(open_window_a)), 409, "account_not_active", tenant_a, in_tenant)
    assert error["details"] == {"account_status": status}


def test_template_must_exist_in_that_language_and_be_approved(api_a, tenant_a, in_tenant, number_a, template_a):
    body = {"to": CUSTOMER, "type": "template"}
    error = assert_refused(
        send(api_a, number_a, **body, template={"name": template_a.name, "language": "de", "body_parameters": ["a", "b"]}),
        422, "template_not_found", tenant_a, in_tenant,
    )
    assert "en_US" in error["message"]
    with in_tenant(tenant_a):
        pending = TemplateFactory(account=number_a.account, status="PENDING")
    assert_refused(
        send(api_a, number_a, **body, template={"name": pending.name, "language": "en_US", "body_parameters": ["a", "b"]}),
        422, "template_not_approved", tenant_a, in_tenant,
    )


def test_template_needs_exactly_its_number_of_parameters(api_a, tenant_a, in_tenant, number_a, template_a):
    response = send(api_a, number_a, to=CUSTOMER, type="template", template={"name": template_a.name, "language": "en_US", "body_parameters": ["only one"]})
    error = assert_refused(response, 422, "invalid_message", tenant_a, in_tenant)
    assert error["details"] == [
        {
            "field": "template.body_parameters",
            "kind": "count",
            "limit": 2,
            "actual": 1,
            "message": "the template's body takes exactly 2 parameters, got 1",
        }
    ]


def test_every_broken_interactive_limit_is_reported_with_field_and_limit(api_a, tenant_a, in_tenant, number_a, open_window_a):
    buttons = [{"type": "reply", "reply": {"id": f"b{i}", "title": f"Option {i}"}} for i in range(4)]
    buttons[0]["reply"]["title"] = "A title far too long for a button"
    interactive = {"type": "button", "body": {"text": "Pick one"}, "action": {"buttons": buttons}}
    response = send(api_a, number_a, to="+" + open_window_a.contact.wa_id, type="interactive", interactive=interactive)
    error = assert_refused(response, 422, "invalid_message", tenant_a, in_tenant)
    found = {(d["field"], d["kind"], d["limit"]) for d in error["details"]}
    assert ("interactive.action.buttons[3]", "too_many", 3) in found
    assert ("interactive.action.buttons[0].reply.title", "too_long", 20) in found


def test_a_list_with_more_than_ten_rows_is_refused(api_a, tenant_a, in_tenant, number_a, open_window_a):
    rows = [{"id": f"r{i}", "title": f"Row {i}"} for i in range(11)]
    interactive = {"type": "list", "body": {"text": "Menu"}, "action": {"button": "See", "sections": [{"rows": rows}]}}
    response = send(api_a, number_a, to="+" + open_window_a.contact.wa_id, type="interactive", interactive=interactive)
    error = assert_refused(response, 422, "invalid_message", tenant_a, in_tenant)
    assert error["details"][0]["field"] == "interactive.action.sections[0].rows[10]"
    assert error["details"][0]["limit"] == 10 and error["details"][0]["actual"] == 11


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"type": "text", "text": {"body": "x" * 4097}}, "text.body", 4096),
        ({"type": "image", "image": {"link": "https://a.test/i.png", "caption": "c" * 1025}}, "image.caption", 1024),
        ({"type": "sticker", "sticker": {"id": "M1", "caption": "no"}}, "sticker.caption", None),
        ({"type": "image", "image": {}}, "image.id", None),
        ({"type": "location", "location": {"latitude": 91, "longitude": 0}}, "location.latitude", None),
        ({"type": "text"}, "text", None),
        ({"type": "text", "text": {"body": "hi"}, "image": {"id": "M1"}}, "image", None),
    ],
)
def test_payload_limits_are_checked_before_queueing(api_a, tenant_a, in_tenant, number_a, open_window_a, body, field, limit):
    response = send(api_a, number_a, to="+" + open_window_a.contact.wa_id, **body)
    error = assert_refused(response, 422, "invalid_message", tenant_a, in_tenant)
    assert error["details"][0]["field"] == field
    assert error["details"][0]["limit"] == limit


@pytest.mark.parametrize(
    ("to", "kind"),
    [
        ("12345", "too_short"),
        ("+1 555 0100", "too_short"),  # a local number: the area code is missing
        ("+49 151 1234 5678 9012 34", "too_long"),
        ("+999 123 4567", "unknown_country_code"),
        ("not a number", "not_a_number"),
        ("", "required"),
    ],
)
def test_a_typed_recipient_must_be_a_possible_international_number(api_a, tenant_a, in_tenant, number_a, to, kind):
    response = send(api_a, number_a, to=to, type="text", text={"body": "Hi"})
    error = assert_refused(response, 422, "invalid_recipient", tenant_a, in_tenant)
    assert [(d["field"], d["kind"]) for d in error["details"]] == [("to", kind)]
    if to:
        assert f"(to) {to!r} is not a possible phone number" in error["message"]
        assert "international format" in error["message"]


@pytest.mark.parametrize(("to", "wa_id"), [("+1 555 010 0999", "15550100999"), ("+1 555-555-0123", "15555550123")])
def test_a_possible_number_libphonenumber_does_not_know_as_assigned_is_accepted(
    api_a, tenant_a, in_tenant, number_a, template_a, to, wa_id
):
    response = send(
        api_a, number_a, to=to, type="template",
        template={"name": template_a.name, "language": "en_US", "body_parameters": ["Ada", "A-17"]},
    )

    assert response.status_code == 202, response.json()
    assert response.json()["to"] == "+" + wa_id
    with in_tenant(tenant_a):
        message = Message.objects.get(pk=response.json()["id"])
        assert message.request_payload["to"] == wa_id and message.contact.wa_id == wa_id


def test_a_contact_meta_named_is_written_to_as_meta_named_it(api_a, tenant_a, in_tenant, number_a):
    """Mexico's WhatsApp ids (521 + 10 digits) are too long for libphonenumber; Meta's word counts."""
    with in_tenant(tenant_a):
        ConversationFactory(phone_number=number_a, contact__wa_id="5215512345678")

    for written in ("+52 1 55 1234 5678", "0052 1 55 1234 5678"):
        response = send(api_a, number_a, to=written, type="text", text={"body": "Your order is ready."})

        assert response.status_code == 202, response.json()
        with in_tenant(tenant_a):
            assert Message.objects.get(pk=response.json()["id"]).request_payload["to"] == "5215512345678"


def test_a_number_only_we_typed_before_is_still_checked(api_a, tenant_a, in_tenant, number_a, template_a):
    with in_tenant(tenant_a):
        ContactFactory(wa_id="5215512345678", first_seen_at=None)  # never wrote: not known from Meta

    response = send(
        api_a, number_a, to="+5215512345678", type="template",
        template={"name": template_a.name, "language": "en_US", "body_parameters": ["Ada", "A-17"]},
    )

    error = assert_refused(response, 422, "invalid_recipient", tenant_a, in_tenant)
    assert [(d["field"], d["kind"]) for d in error["details"]] == [("to", "too_long")]


def test_a_missing_type_object_or_unknown_type_is_a_validation_error(api_a, tenant_a, in_tenant, number_a):
    response = send(api_a, number_a, to=CUSTOMER, type="fax", fax={})
    assert_refused(response, 422, "validation_error", tenant_a, in_tenant)


# --- idempotency and quotas ---------------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_same_message(api_a, tenant_a, in_tenant, number_a, open_window_a):
    body = text_to(open_window_a)
    first = send(api_a, number_a, **body, idempotency_key="order-17-ready")
    again = send(api_a, number_a, **body, idempotency_key="order-17-ready")

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert len(messages_in(tenant_a, in_tenant)) == 1

    other = send(api_a, number_a, **text_to(open_window_a, "Something else"), idempotency_key="order-17-ready")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert len(messages_in(tenant_a, in_tenant)) == 1


def test_idempotency_keys_belong_to_one_tenant(api_a, api_b, tenant_a, tenant_b, in_tenant, number_a, number_b, open_window_a):
    with in_tenant(tenant_b):
        window_b = ConversationFactory(phone_number=number_b)
    assert send(api_a, number_a, **text_to(open_window_a), idempotency_key="k-1").status_code == 202
    response = send(api_b, number_b, **text_to(window_b), idempotency_key="k-1")
    assert response.status_code == 202
    assert "Idempotent-Replayed" not in response
    assert len(messages_in(tenant_b, in_tenant)) == 1


def test_an_exhausted_account_quota_answers_429_with_retry_after(api_a, tenant_a, in_tenant, number_a, open_window_a):
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=number_a.account_id).update(rate_limit_per_minute=2)
    for _ in range(2):
        assert send(api_a, number_a, **text_to(open_window_a)).status_code == 202
    response = send(api_a, number_a, **text_to(open_window_a))

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert response.json()["error"]["details"]["limit"] == "account per-minute"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert len(messages_in(tenant_a, in_tenant)) == 2


def test_the_tenant_quota_counts_every_account_of_the_tenant(api_a, tenant_a, in_tenant, number_a, open_window_a, settings):
    settings.TENANT_RATE_LIMIT_PER_DAY = 1
    assert send(api_a, number_a, **text_to(open_window_a)).status_code == 202
    response = send(api_a, number_a, **text_to(open_window_a))
    assert response.status_code == 429
    assert response.json()["error"]["details"]["limit"] == "workspace per-day"
    assert int(response["Retry-After"]) > 60


def test_a_refused_message_does_not_use_quota(api_a, tenant_a, in_tenant, number_a, open_window_a):
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=number_a.account_id).update(rate_limit_per_minute=1)
    assert send(api_a, number_a, to="+" + open_window_a.contact.wa_id, type="text", text={"body": ""}).status_code == 422
    assert send(api_a, number_a, **text_to(open_window_a)).status_code == 202


# --- tenants ----------------------------------------------------------------------------------------------


def test_a_tenant_cannot_send_from_another_tenants_number(api_a, tenant_a, tenant_b, in_tenant, number_b):
    response = api_a.post_json(
        "/api/v1/messages",
        {"phone_number_id": number_b.phone_number_id, "to": CUSTOMER, "type": "text", "text": {"body": "Hi"}},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert messages_in(tenant_a, in_tenant) == []
    assert messages_in(tenant_b, in_tenant) == []


def test_sending_needs_a_key_of_this_workspace(api_b, number_a, open_window_a):
    from tests.conftest import ApiClient

    anonymous = ApiClient("alpha.localhost")
    assert send(anonymous, number_a, **text_to(open_window_a)).status_code == 401
    foreign_key = ApiClient("alpha.localhost", api_b.key)
    assert send(foreign_key, number_a, **text_to(open_window_a)).status_code == 401


def test_a_template_button_or_media_header_that_is_missing_or_wrong_is_refused(api_a, tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        template = TemplateFactory(
            account=number_a.account,
            components=[
                {"type": "HEADER", "format": "VIDEO"},
                {"type": "BODY", "text": "Watch this."},
                {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Open", "url": "https://x.test/{{1}}"}]},
            ],
            variable_count=0,
            parameter_counts={"body": 0, "header": 1, "buttons": {"0": 1}},
        )
    response = send(
        api_a,
        number_a,
        to=CUSTOMER,
        type="template",
        template={"name": template.name, "language": "en_US", "header_parameters": [{"type": "image", "image": {"link": "https://a.test/i.png"}}]},
    )
    error = assert_refused(response, 422, "invalid_message", tenant_a, in_tenant)
    assert [d["field"] for d in error["details"]] == ["template.header_parameters[0]", "template.buttons"]


def test_a_flow_message_is_validated_and_queued(api_a, tenant_a, in_tenant, number_a, open_window_a):
    flow = {
        "type": "flow",
        "body": {"text": "Book a table"},
        "action": {
            "name": "flow",
            "parameters": {
                "flow_message_version": "3",
                "flow_token": "tok-1",
                "flow_id": "1234",
                "flow_cta": "Book now",
                "flow_action": "navigate",
                "flow_action_payload": {"screen": "BOOKING"},
            },
        },
    }
    assert send(api_a, number_a, to="+" + open_window_a.contact.wa_id, type="interactive", interactive=flow).status_code == 202
    flow["action"]["parameters"]["flow_cta"] = "A call to action that is too long"
    response = send(api_a, number_a, to="+" + open_window_a.contact.wa_id, type="interactive", interactive=flow)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "interactive.action.parameters.flow_cta"
