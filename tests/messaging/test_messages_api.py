"""The tenant messages API: list, filter, paginate, get; conversations; read receipts through the Graph API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from graph_simulator.faults import fault_rule_parse
from messaging.models import Conversation, Message
from tests.fixtures import load_webhook_fixture_bytes
from tests.messaging.factories import (
    FIXTURE_PHONE_ID,
    FIXTURE_WABA_ID,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.webhooks.conftest import process_journal


@pytest.fixture
def inbox_a(number_a, tenant_a, in_tenant):
    """Alpha: two customers; five inbound and two outbound messages an hour apart, oldest first."""
    now = timezone.now().replace(microsecond=0)
    with in_tenant(tenant_a):
        kerry = ConversationFactory(phone_number=number_a, contact=ContactFactory(wa_id="16315551181",
                                                                                  profile_name="Kerry"))
        alex = ConversationFactory(phone_number=number_a, contact=ContactFactory(wa_id="14155550123",
                                                                                 profile_name="Alex"))
        messages = [
            MessageFactory(conversation=kerry, body="hello", timestamp=now - timedelta(hours=6)),
            MessageFactory(conversation=kerry, direction="out", type="template", status="delivered",
                           body="order shipped", timestamp=now - timedelta(hours=5)),
            MessageFactory(conversation=alex, type="image", body="photo", timestamp=now - timedelta(hours=4),
                           content={"media_id": "m1", "mime_type": "image/jpeg"}),
            MessageFactory(conversation=kerry, direction="out", status="failed", error_code=131026,
                           error_title="Message undeliverable", error_details="Message Undeliverable.",
                           attempts=1, timestamp=now - timedelta(hours=3)),
            MessageFactory(conversation=alex, body="thanks", timestamp=now - timedelta(hours=2)),
            MessageFactory(conversation=kerry, body="where is it?", timestamp=now - timedelta(hours=1)),
            MessageFactory(conversation=kerry, body="hello??", timestamp=now),
        ]
        Conversation.objects.filter(pk=kerry.pk).update(
            unread_count=3, message_count=5, last_message_at=now, last_inbound_at=now,
            service_window_expires_at=now + timedelta(hours=24))
        Conversation.objects.filter(pk=alex.pk).update(
            unread_count=2, message_count=2, last_message_at=now - timedelta(hours=2),
            last_inbound_at=now - timedelta(hours=2), service_window_expires_at=now - timedelta(minutes=1))
    return {"kerry": kerry, "alex": alex, "messages": messages, "now": now}


@pytest.fixture
def sim_a(graph_simulator, number_a):
    """The simulator knows alpha's WABA, number and token, as Meta would."""
    graph_simulator.seed({
        "wabas": [{"id": FIXTURE_WABA_ID, "name": "Alpha",
                   "phone_numbers": [{"id": FIXTURE_PHONE_ID, "display_phone_number": "15550783881"}]}],
        "tokens": [{"token": number_a.account.access_token.reveal(), "waba_ids": [FIXTURE_WABA_ID]}],
    })
    yield graph_simulator
    graph_simulator.simulator.faults.clear()


def _ids(response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


# --- listing, filtering, paging -----------------------------------------------------------------

def test_messages_are_listed_newest_first_with_outbound_progress(api_a, inbox_a):
    response = api_a.get("/api/v1/messages")

    assert response.status_code == 200
    body = response.json()
    assert _ids(response) == [m.pk for m in reversed(inbox_a["messages"])]
    assert body["next_cursor"] is None
    failed = next(item for item in body["items"] if item["status"] == "failed")
    assert failed["direction"] == "out"
    assert failed["error"] == {"code": 131026, "title": "Message undeliverable", "details": "Message Undeliverable.",
                               "reason": ""}
    assert failed["attempts"] == 1
    inbound = body["items"][0]
    assert inbound["contact"] == {"id": inbox_a["kerry"].contact_id, "wa_id": "16315551181",
                                  "profile_name": "Kerry", "opted_out": False}
    assert inbound["phone_number"]["phone_number_id"] == FIXTURE_PHONE_ID
    assert inbound["error"] is None and inbound["media"] is None


@pytest.mark.parametrize("query,expected", [
    ("contact=%2B1%20415%20555%200123", [4, 2]),
    ("contact=16315551181&direction=out", [3, 1]),
    ("direction=in", [6, 5, 4, 2, 0]),
    ("type=image", [2]),
    ("status=delivered", [1]),
    ("status=failed&direction=out", [3]),
])
def test_filters(api_a, inbox_a, query, expected):
    response = api_a.get(f"/api/v1/messages?{query}")

    assert response.status_code == 200
    assert _ids(response) == [inbox_a["messages"][index].pk for index in expected]


def test_date_range_filter(api_a, inbox_a):
    now = inbox_a["now"]
    since = (now - timedelta(hours=4)).isoformat()
    until = (now - timedelta(hours=1)).isoformat()

    response = api_a.get("/api/v1/messages", {"since": since, "until": until})

    assert _ids(response) == [inbox_a["messages"][index].pk for index in (4, 3, 2)]


def test_times_with_any_utc_offset_filter_in_utc(api_a, inbox_a):
    """PostgreSQL refuses offsets beyond 15:59 that ISO 8601 (and Python) allow: they are converted first."""
    far_west = timezone.get_fixed_timezone(-18 * 60)
    since = (inbox_a["now"] - timedelta(hours=4)).astimezone(far_west).isoformat()
    until = (inbox_a["now"] - timedelta(hours=1)).astimezone(far_west).isoformat()
    assert until.endswith("-18:00")

    response = api_a.get("/api/v1/messages", {"since": since, "until": until})

    assert response.status_code == 200, response.json()
    assert _ids(response) == [inbox_a["messages"][index].pk for index in (4, 3, 2)]
    assert api_a.get("/api/v1/messages?until=2026-01-01T00:00:00-18:00").status_code == 200


def test_a_time_beyond_the_calendar_in_utc_is_422_naming_the_field(api_a):
    response = api_a.get("/api/v1/messages", {"since": "0001-01-01T00:00:00+05:00"})

    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["error"]["details"]] == ["query.since"]


def test_filter_by_conversation_and_number(api_a, inbox_a):
    alex = inbox_a["alex"]

    assert _ids(api_a.get(f"/api/v1/messages?conversation_id={alex.pk}")) == [
        inbox_a["messages"][4].pk, inbox_a["messages"][2].pk]
    assert len(_ids(api_a.get(f"/api/v1/messages?phone_number_id={FIXTURE_PHONE_ID}"))) == 7
    assert _ids(api_a.get("/api/v1/messages?phone_number_id=999")) == []


def test_cursor_pagination_walks_every_message_once(api_a, inbox_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):  # same timestamp as the newest: the id breaks the tie
        MessageFactory(conversation=inbox_a["kerry"], timestamp=inbox_a["now"])
    seen, cursor, pages = [], None, 0
    while True:
        response = api_a.get("/api/v1/messages", {"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        seen += _ids(response)
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 8


def _cursor(at: str, pk: object) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps([at, pk]).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "garbage", "WyJub3QtYS1kYXRlIiwgMV0", "e30",
    _cursor("2026-01-01T00:00:00+00:00", 2**63),  # beyond the id column
    _cursor("2026-01-01T00:00:00", 5),  # no offset: not one of ours
    _cursor("0001-01-01T00:00:00+05:00", 5),  # before year 1 in UTC
])
def test_a_bad_cursor_is_422(api_a, inbox_a, cursor):
    response = api_a.get("/api/v1/messages", {"cursor": cursor})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_a_cursor_with_a_far_utc_offset_pages_in_utc(api_a, inbox_a):
    cursor = _cursor((inbox_a["now"] - timedelta(hours=2)).astimezone(timezone.get_fixed_timezone(-18 * 60)).isoformat(),
                     2**62)

    response = api_a.get("/api/v1/messages", {"cursor": cursor})

    assert response.status_code == 200, response.json()
    assert _ids(response) == [inbox_a["messages"][index].pk for index in (4, 3, 2, 1, 0)]


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "direction=sideways", "status=lost", "since=yesterday"])
def test_bad_filters_are_422_with_the_field(api_a, query):
    response = api_a.get(f"/api/v1/messages?{query}")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"].startswith("query.")


def test_get_one_message(api_a, inbox_a):
    message = inbox_a["messages"][2]

    response = api_a.get(f"/api/v1/messages/{message.pk}")

    assert response.status_code == 200
    assert response.json()["content"] == {"media_id": "m1", "mime_type": "image/jpeg"}
    assert response.json()["type"] == "image"


def test_without_a_key_nothing_is_readable(inbox_a, tenant_a):
    from tests.conftest import ApiClient, host_of

    response = ApiClient(host_of(tenant_a)).get("/api/v1/messages")

    assert response.status_code == 401


# --- isolation: the outsider ----------------------------------------------------------------------

def test_another_tenants_ids_are_not_found_on_every_endpoint(api_a, api_b, inbox_a, tenant_b, in_tenant, number_b):
    # Ids that alpha's schema surely does not have, so a leak could not hide behind a coincidence.
    far = max(m.pk for m in inbox_a["messages"]) + 10_000
    with in_tenant(tenant_b):
        conversation = ConversationFactory(id=far, phone_number=number_b)
        theirs = MessageFactory(id=far, conversation=conversation, body="beta secret",
                                content={"media_id": "m2", "mime_type": "image/jpeg"}, type="image")

    assert "beta secret" not in json.dumps(api_a.get("/api/v1/messages").json())
    for method, path, code in (
        ("get", f"/api/v1/messages/{far}", "message_not_found"),
        ("get", f"/api/v1/messages/{far}/media", "message_not_found"),
        ("post_json", f"/api/v1/messages/{far}/read", "message_not_found"),
        ("get", f"/api/v1/conversations/{far}", "conversation_not_found"),
        ("post_json", f"/api/v1/conversations/{far}/read", "conversation_not_found"),
    ):
        response = getattr(api_a, method)(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == code
    assert _ids(api_a.get(f"/api/v1/messages?conversation_id={far}")) == []
    assert _ids(api_b.get("/api/v1/messages")) == [theirs.pk]
    assert api_b.get(f"/api/v1/messages/{far}").json()["body"] == "beta secret"


def test_ids_that_exist_in_both_schemas_show_each_tenant_its_own(api_a, api_b, webhook, number_a, number_b):
    payload = json.loads(load_webhook_fixture_bytes("message_text"))
    webhook.post(json.dumps(payload))
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number_b.phone_number_id
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.beta-only"
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "for beta only"
    webhook.post(json.dumps(payload))
    process_journal()

    [alpha_message] = api_a.get("/api/v1/messages").json()["items"]
    [beta_message] = api_b.get("/api/v1/messages").json()["items"]
    assert alpha_message["body"] == "Hi! Do you deliver on Saturdays?"
    assert beta_message["body"] == "for beta only"
    assert api_a.get(f"/api/v1/messages/{beta_message['id']}").json().get("body") != "for beta only"


# --- conversations ------------------------------------------------------------------------------

def test_conversations_show_unread_counts_and_the_window(api_a, inbox_a):
    response = api_a.get("/api/v1/conversations")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(c["id"], c["unread_count"], c["window_open"]) for c in items] == [
        (inbox_a["kerry"].pk, 3, True), (inbox_a["alex"].pk, 2, False)]
    assert items[0]["contact"]["wa_id"] == "16315551181"
    assert items[0]["service_window_expires_at"] is not None


@pytest.mark.parametrize("query,names", [
    ("window_open=true", ["kerry"]),
    ("window_open=false", ["alex"]),
    ("unread=true", ["kerry", "alex"]),
    ("unread=false", []),
    ("contact=14155550123", ["alex"]),
    ("limit=1", ["kerry"]),
])
def test_conversation_filters(api_a, inbox_a, query, names):
    assert _ids(api_a.get(f"/api/v1/conversations?{query}")) == [inbox_a[name].pk for name in names]


def test_conversation_pages(api_a, inbox_a):
    first = api_a.get("/api/v1/conversations?limit=1").json()
    second = api_a.get(f"/api/v1/conversations?limit=1&cursor={first['next_cursor']}").json()

    assert [c["id"] for c in first["items"] + second["items"]] == [inbox_a["kerry"].pk, inbox_a["alex"].pk]
    assert second["next_cursor"] is None


# --- read receipts -------------------------------------------------------------------------------

def test_reading_a_conversation_marks_everything_and_sends_one_receipt(api_a, inbox_a, sim_a, tenant_a, in_tenant):
    kerry = inbox_a["kerry"]
    newest = inbox_a["messages"][6]
    since = sim_a.simulator.requests.last_seq()

    response = api_a.post_json(f"/api/v1/conversations/{kerry.pk}/read")

    assert response.status_code == 200
    assert response.json() == {"conversation_id": kerry.pk, "marked_read": 3, "unread_count": 0,
                               "receipt_wamid": newest.wamid}
    [sent] = sim_a.simulator.requests.query(since_seq=since)
    assert (sent["method"], sent["path"]) == ("POST", f"/v23.0/{FIXTURE_PHONE_ID}/messages")
    assert sent["body"] == {"messaging_product": "whatsapp", "status": "read", "message_id": newest.wamid}
    assert sent["status"] == 200
    with in_tenant(tenant_a):
        assert not Message.objects.filter(conversation=kerry, direction="in", is_read_by_business=False).exists()
        assert Conversation.objects.get(pk=kerry.pk).unread_count == 0
        assert Conversation.objects.get(pk=inbox_a["alex"].pk).unread_count == 2

    again = api_a.post_json(f"/api/v1/conversations/{kerry.pk}/read")
    assert again.json()["marked_read"] == 0 and again.json()["receipt_wamid"] is None
    assert sim_a.simulator.requests.query(since_seq=since + 1) == []


def test_reading_one_message_marks_it_and_the_earlier_ones(api_a, inbox_a, sim_a, tenant_a, in_tenant):
    middle = inbox_a["messages"][5]

    response = api_a.post_json(f"/api/v1/messages/{middle.pk}/read")

    assert response.json()["marked_read"] == 2
    assert response.json()["unread_count"] == 1
    with in_tenant(tenant_a):
        unread = list(Message.objects.filter(conversation=inbox_a["kerry"], direction="in",
                                             is_read_by_business=False).values_list("pk", flat=True))
    assert unread == [inbox_a["messages"][6].pk]


def test_an_outbound_message_cannot_be_marked_read(api_a, inbox_a, sim_a):
    response = api_a.post_json(f"/api/v1/messages/{inbox_a['messages'][1].pk}/read")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_inbound"


def test_when_meta_fails_nothing_is_marked(api_a, inbox_a, sim_a, tenant_a, in_tenant):
    sim_a.simulator.faults.add(fault_rule_parse({"path_contains": "/messages", "status": 500, "error_code": 2}))

    response = api_a.post_json(f"/api/v1/conversations/{inbox_a['kerry'].pk}/read")

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "graph_error"
    assert error["details"]["retryable"] is True
    assert "Retry-After" in response
    assert inbox_a["kerry"].phone_number.account.access_token.reveal() not in response.content.decode()
    with in_tenant(tenant_a):
        assert Conversation.objects.get(pk=inbox_a["kerry"].pk).unread_count == 3


def test_a_number_without_token_cannot_send_receipts(api_a, inbox_a, tenant_a, in_tenant):
    from waba.models import WhatsAppAccount

    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=inbox_a["kerry"].phone_number.account_id).update(access_token=None)

    response = api_a.post_json(f"/api/v1/conversations/{inbox_a['kerry'].pk}/read")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "account_not_ready"
