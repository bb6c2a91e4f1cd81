"""Input bounds of both APIs (platform_core/api.py): page sizes and offsets, integers a column can
hold, strings PostgreSQL can store, JSON depth. Out of bounds is a 422 naming the field, never a 500."""

from __future__ import annotations

import json

import pytest

from messaging.models import Message
from platform_core.api import MAX_PAGE_SIZE
from platform_core.urls_public import api as platform_api
from platform_core.urls_tenant import api as tenant_api
from tenants.models import ApiKey
from tests.factories import AccountFactory, ConversationFactory, PhoneNumberFactory, api_key_for

TENANT_LISTS = [
    "/api/v1/workflow-templates",
    "/api/v1/workflows",
    "/api/v1/conversation-states",
    "/api/v1/handoffs",
    "/api/v1/catalogue-items",
    "/api/v1/orders",
    "/api/v1/support-tickets",
    "/api/v1/flows",
    "/api/v1/flows/responses",
    "/api/v1/flows/installation-requests",
    "/api/v1/flows/cleaning-requests",
    "/api/v1/broadcasts",
    "/api/v1/templates",
    "/api/v1/accounts",
    "/api/v1/api-keys",
    "/api/v1/messages",
    "/api/v1/conversations",
]
PLATFORM_LISTS = ["/api/platform/tenants", "/api/platform/accounts/health"]


def _fields(response) -> set[str]:
    assert response.status_code == 422, (response.status_code, response.content)
    body = response.json()
    assert body["error"]["code"] == "validation_error"
    return {detail["field"] for detail in body["error"]["details"]}


def _client(request, path: str):
    return request.getfixturevalue("platform_api" if path.startswith("/api/platform") else "api_a")


@pytest.mark.parametrize("path", TENANT_LISTS + PLATFORM_LISTS)
def test_every_list_refuses_a_page_beyond_the_cap_naming_the_field(request, path):
    client = _client(request, path)

    assert _fields(client.get(f"{path}?limit=100000000")) == {"query.limit"}
    assert _fields(client.get(f"{path}?limit=201")) == {"query.limit"}
    assert _fields(client.get(f"{path}?limit=0")) == {"query.limit"}
    assert client.get(f"{path}?limit=200").status_code == 200


@pytest.mark.parametrize("path", [path for path in TENANT_LISTS + PLATFORM_LISTS if not path.endswith(("/messages", "/conversations"))])
def test_offsets_beyond_a_64_bit_integer_are_refused_not_a_500(request, path):
    client = _client(request, path)

    assert _fields(client.get(f"{path}?offset=1000000000000000000000000000000")) == {"query.offset"}
    assert _fields(client.get(f"{path}?limit=10&offset=4398046511104")) == {"query.offset"}
    assert client.get(f"{path}?offset=2147483647").json()["items"] == []


def test_account_events_limit_is_bounded_like_every_list(api_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account = AccountFactory()

    assert _fields(api_a.get(f"/api/v1/accounts/{account.pk}/events?limit=1001")) == {"query.limit"}
    assert api_a.get(f"/api/v1/accounts/{account.pk}/events?limit=200").status_code == 200


def test_lists_that_returned_everything_are_paged(api_a, platform_api, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        first, second, third = AccountFactory.create_batch(3)
    for _ in range(2):
        api_key_for(tenant_a)

    accounts = api_a.get("/api/v1/accounts?limit=2").json()
    assert accounts["count"] == 3
    assert [item["id"] for item in accounts["items"]] == [first.pk, second.pk]
    assert [item["id"] for item in api_a.get("/api/v1/accounts?limit=2&offset=2").json()["items"]] == [third.pk]

    keys = api_a.get("/api/v1/api-keys?limit=1").json()
    assert keys["count"] == ApiKey.objects.filter(tenant=tenant_a).count() >= 3
    assert len(keys["items"]) == 1

    tenants = platform_api.get("/api/platform/tenants?limit=1&offset=1").json()
    assert tenants == {"items": [tenants["items"][0]], "count": 2}
    assert tenants["items"][0]["slug"] == "beta"

    health = platform_api.get("/api/platform/accounts/health?limit=2").json()
    assert health["count"] == 3 and len(health["items"]) == 2


# Lists returned whole: their length is bounded by something other than the request.
WHOLE_LISTS = {
    "/api/v1/accounts/{account_id}/phone-numbers",  # one account's numbers; Meta caps them per WABA
    "/api/v1/flows/endpoint-keys",  # one key per phone number
    "/api/v1/template-starters",  # the fixed starter library shipped with the platform
}
# Integers whose other bound is checked by the service together with the other fields (all errors at once).
HALF_BOUNDED = {"PATCH /api/v1/accounts/{account_id} body.rate_limit_per_minute",
                "PATCH /api/v1/accounts/{account_id} body.rate_limit_per_day",
                "PATCH /api/v1/accounts/{account_id} body.rate_limit_per_month"}


def _operations():
    for api, prefix in ((tenant_api, "/api/v1"), (platform_api, "/api/platform")):
        schema = api.get_openapi_schema(path_prefix=prefix)
        components = schema.get("components", {}).get("schemas", {})
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                yield f"{method.upper()} {path}", operation, components


def _resolved(schema: dict, components: dict) -> dict:
    return components[schema["$ref"].split("/")[-1]] if "$ref" in schema else schema


def _unbounded_integers(schema: dict, components: dict, where: str, seen: frozenset = frozenset()) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return [] if name in seen else _unbounded_integers(components[name], components, where, seen | {name})
    found = []
    if schema.get("type") == "integer" and not {"minimum", "maximum"} <= set(schema):
        found.append(where)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += _unbounded_integers(option, components, where, seen)
    for name, child in schema.get("properties", {}).items():
        found += _unbounded_integers(child, components, f"{where}.{name}", seen)
    if isinstance(schema.get("items"), dict):
        found += _unbounded_integers(schema["items"], components, f"{where}[]", seen)
    return found


def test_every_list_operation_is_paged_within_the_cap():
    """A list added later without `@paginated` fails here, before any fuzzer has to find it."""
    checked = 0
    for label, operation, components in _operations():
        ok = operation["responses"].get(200, {}).get("content", {}).get("application/json", {}).get("schema", {})
        ok = _resolved(ok, components)
        limits = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"}
        paged = ok.get("type") == "object" and set(ok.get("properties", {})) == {"items", "count"}
        if paged:
            assert limits["limit"]["maximum"] == MAX_PAGE_SIZE and limits["offset"]["maximum"] == 2**31 - 1, label
            checked += 1
        elif ok.get("type") == "array" and label.startswith("GET"):
            assert label.split(" ")[1] in WHOLE_LISTS or limits.get("limit", {}).get("maximum") == MAX_PAGE_SIZE, (
                f"{label} returns a whole list: page it with @paginated")
    assert checked >= 19


def test_every_integer_the_apis_accept_is_bounded():
    """Path ids are matched by Django's int converter and looked up safely; everything else has bounds."""
    unbounded = []
    for label, operation, components in _operations():
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "path":
                unbounded += [f"{label} {where}" for where in _unbounded_integers(
                    parameter["schema"], components, f"{parameter['in']}.{parameter['name']}")]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body:
            unbounded += [f"{label} {where}" for where in _unbounded_integers(body, components, "body")]
    assert set(unbounded) == HALF_BOUNDED


def test_the_openapi_schema_documents_the_bounds():
    schema = tenant_api.get_openapi_schema(path_prefix="/api/v1")
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/accounts"]["get"]["parameters"]}

    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 200)
    assert (parameters["offset"]["minimum"], parameters["offset"]["maximum"]) == (0, 2**31 - 1)
    patch = schema["components"]["schemas"]["AccountUpdateIn"]["properties"]["rate_limit_per_minute"]
    assert patch["anyOf"][0]["maximum"] == 2**31 - 1


# --- integers a column can hold ------------------------------------------------------------------


def test_rate_limits_beyond_the_integer_column_are_refused(api_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account = AccountFactory()

    response = api_a.patch_json(f"/api/v1/accounts/{account.pk}", {"rate_limit_per_minute": 2**31})
    assert _fields(response) == {"body.payload.rate_limit_per_minute"}
    response = api_a.patch_json(f"/api/v1/accounts/{account.pk}", {"rate_limit_per_day": 10**30})
    assert _fields(response) == {"body.payload.rate_limit_per_day"}
    assert api_a.patch_json(f"/api/v1/accounts/{account.pk}", {"rate_limit_per_month": 2**31 - 1}).status_code == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/orders?contact_id=100000000000000000000", "query.contact_id"),
        ("/api/v1/messages?conversation_id=100000000000000000000", "query.conversation_id"),
        ("/api/v1/templates?account_id=100000000000000000000", "query.account_id"),
        ("/api/v1/flows?account_id=-1", "query.account_id"),
    ],
)
def test_ids_beyond_a_bigint_are_refused(api_a, path, field):
    assert _fields(api_a.get(path)) == {field}


def test_body_integers_are_bounded(api_a):
    item = api_a.post_json("/api/v1/catalogue-items", {"name": "Mug", "price": "4.50", "position": 2**31})
    assert _fields(item) == {"body.payload.position"}
    template = api_a.post_json("/api/v1/workflow-templates", {
        "template_name": "menu", "type": "button", "priority": -(2**31) - 1,
        "structure": {"type": "button", "body": {"text": "Hi"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "a", "title": "A"}}]}},
    })
    assert _fields(template) == {"body.payload.priority"}
    handoff = api_a.post_json("/api/v1/handoffs", {"contact_id": 2**63, "phone_number_id": "1"})
    assert _fields(handoff) == {"body.payload.contact_id"}


# --- strings PostgreSQL can store ----------------------------------------------------------------


@pytest.fixture
def open_window(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        number = PhoneNumberFactory()
        return number, ConversationFactory(phone_number=number, window_open=True)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("Table for two\x00please", "NUL"), ("Table for two \ud83d", "surrogate")],
)
def test_a_message_with_a_nul_or_a_lone_surrogate_is_refused_naming_the_field(
    api_a, tenant_a, in_tenant, open_window, text, reason
):
    number, conversation = open_window
    body = {"phone_number_id": number.phone_number_id, "to": "+" + conversation.contact.wa_id, "type": "text",
            "text": {"body": text}}

    response = api_a.post("/api/v1/messages", data=json.dumps(body), content_type="application/json")

    assert _fields(response) == {"body.text.body"}
    assert reason in response.json()["error"]["details"][0]["message"]
    with in_tenant(tenant_a):
        assert not Message.objects.filter(conversation=conversation).exists()
    body["text"]["body"] = "Table for two please"
    assert api_a.post_json("/api/v1/messages", body).status_code == 202


def test_an_idempotency_key_with_a_nul_is_refused_naming_the_header(api_a, open_window):
    number, conversation = open_window
    body = {"phone_number_id": number.phone_number_id, "to": "+" + conversation.contact.wa_id, "type": "text",
            "text": {"body": "Hi"}}

    response = api_a.post_json("/api/v1/messages", body, HTTP_IDEMPOTENCY_KEY="order-17\x00")

    assert _fields(response) == {"header.Idempotency-Key"}
    assert api_a.post_json("/api/v1/messages", body, HTTP_IDEMPOTENCY_KEY="order-17").status_code == 202


@pytest.mark.parametrize(
    ("client_name", "path", "field"),
    [
        ("api_a", "/api/v1/templates?name=a%00b", "query.name"),
        ("api_a", "/api/v1/orders?status=%00", "query.status"),
        ("api_a", "/api/v1/messages?contact=%2B49%00", "query.contact"),
        ("platform_api", "/api/platform/tenants?status=a%00", "query.status"),
    ],
)
def test_a_nul_in_a_query_filter_is_refused_naming_the_field(request, client_name, path, field):
    assert _fields(request.getfixturevalue(client_name).get(path)) == {field}


@pytest.mark.parametrize("path", ["/api/platform/tenants/a%00b", "/api/platform/tenants/Alpha"])
def test_a_tenant_slug_that_cannot_be_one_is_refused_naming_the_field(platform_api, path):
    assert _fields(platform_api.get(path)) == {"path.slug"}
    assert _fields(platform_api.post_json(f"{path}/suspend", {"reason": "x"})) == {"path.slug"}
    assert platform_api.get("/api/platform/tenants/omega").status_code == 404


def test_unstorable_strings_are_refused_in_free_form_bodies_and_keys(api_a, platform_api):
    wizard = api_a.post("/api/v1/accounts/setup", data='{"business_account": {"waba_id": "\\u0000"}}',
                        content_type="application/json")
    assert _fields(wizard) == {"body.business_account.waba_id"}
    key = api_a.post("/api/v1/workflows", data='{"name": "x", "definition": {"\\udc00": 1}}',
                     content_type="application/json")
    assert _fields(key) == {"body.definition.\udc00"}
    tenant = platform_api.post("/api/platform/tenants", data='{"slug": "gamma", "name": "G\\u0000mma"}',
                               content_type="application/json")
    assert _fields(tenant) == {"body.name"}


# --- JSON the services can walk ------------------------------------------------------------------


def test_a_body_nested_too_deeply_is_refused_naming_where(api_a):
    structure: object = "deep"
    for _ in range(70):
        structure = {"a": structure}

    response = api_a.post_json("/api/v1/workflow-templates/1/preview", {"context": structure})

    fields = _fields(response)
    assert len(fields) == 1 and next(iter(fields)).startswith("body.context.a.a.a")
    assert "64 levels" in response.json()["error"]["details"][0]["message"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_json_does_not_have_are_a_400(api_a, number):
    response = api_a.post("/api/v1/catalogue-items", data=f'{{"name": "Mug", "price": {number}}}',
                          content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
