"""Tenant-served data exchange: Meta-style encrypted requests through the real endpoint, answered by
the flow's configuration (forwarded to the tenant's own server, or static), or by Meta's screen
error when nothing serves the flow; and the API that configures it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from audit.models import AuditEntry
from automations.models import CatalogueItem, Order
from flows_builder.endpoint import flow_endpoint_key_ensure
from flows_builder.models import FlowExchangeConfig
from messaging.models import Contact
from tenants.services import api_key_create
from tests.conftest import ApiClient, host_of
from tests.flows_builder.factories import FlowTokenFactory, WhatsAppFlowFactory
from tests.flows_builder.test_endpoint import ENDPOINT_FLOW_JSON, call, decrypt_answer

CUSTOMER_INPUT = "date-typed-by-a-customer-5521"
NOT_AVAILABLE = "This step is not available right now. Please try again later."


@dataclass
class TenantServer:
    """The tenant's own endpoint: records each POST, answers `answer` (bytes) with `status` after `delay_s`."""

    url: str = ""
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200
    answer: bytes = b'{"screen": "CONFIRM", "data": {"summary": "Booked"}}'
    delay_s: float = 0.0


@pytest.fixture
def allow_private(settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = True


@pytest.fixture
def tenant_server(allow_private) -> Iterator[TenantServer]:
    state = TenantServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            time.sleep(state.delay_s)
            try:
                self.send_response(state.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(state.answer)))
                self.end_headers()
                self.wfile.write(state.answer)
            except OSError:  # the platform stopped waiting
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/flows/booking"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def tenant_flow(sim, tenant_a, in_tenant, alpha_account, alpha_number, alpha_contact):
    """An endpoint flow with no handler in code, alpha's key pair uploaded, a live token."""
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(
            account=alpha_account,
            name="tenant_booking",
            flow_json=ENDPOINT_FLOW_JSON,
            endpoint_enabled=True,
            endpoint_phone_number=alpha_number,
        )
        key = flow_endpoint_key_ensure(phone_number=alpha_number)
        token = FlowTokenFactory(flow=flow, contact=alpha_contact)
    return {"flow": flow, "public": key.public_key_pem, "token": token.token}


def exchange(tenant_flow, action: str, screen: str | None = None, data: dict | None = None):
    """One request as Meta sends it; the HTTP status and the decrypted answer."""
    payload = {"version": "3.0", "action": action, "flow_token": tenant_flow["token"]}
    if screen:
        payload["screen"] = screen
    if data is not None:
        payload["data"] = data
    response, aes_key, iv = call(payload, tenant_flow["public"])
    assert response.status_code == 200, response.content
    return decrypt_answer(response, aes_key, iv)


def standard_webhooks_valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, written from the Standard Webhooks specification."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(part.split(",", 1)[1], expected) for part in headers["webhook-signature"].split()
    )


def our_log_lines(caplog) -> str:
    """What the platform's flows code logged (httpx's own request line names every URL it calls)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("flows_builder"))


def forward_to(api_a, tenant_flow, url: str) -> str:
    response = api_a.put_json(
        f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange", {"mode": "forward", "url": url}
    )
    assert response.status_code == 200, response.content
    return response.json()["secret"]


# --- nothing configured -----------------------------------------------------------------------


def test_a_flow_with_nothing_configured_answers_metas_screen_error_not_a_500(tenant_flow, caplog):
    caplog.set_level(logging.WARNING, logger="flows_builder")
    assert exchange(tenant_flow, "INIT") == {"screen": "PICK_DATE", "data": {"error_message": NOT_AVAILABLE}}
    assert exchange(tenant_flow, "data_exchange", "PICK_DATE", {"date": CUSTOMER_INPUT}) == {
        "screen": "PICK_DATE",
        "data": {"error_message": NOT_AVAILABLE},
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("tenant_booking" in line and "no data-exchange handler" in line for line in warnings)
    assert CUSTOMER_INPUT not in caplog.text


# --- forward ----------------------------------------------------------------------------------


def test_forwarded_requests_reach_the_tenant_signed_and_its_answers_go_back_encrypted(
    api_a, tenant_flow, tenant_server
):
    secret = forward_to(api_a, tenant_flow, tenant_server.url)
    tenant_server.answer = json.dumps(
        {"screen": "PICK_DATE", "data": {"dates": [{"id": "2026-12-03", "title": "3 Dec"}]}}
    ).encode()
    assert exchange(tenant_flow, "INIT") == {
        "screen": "PICK_DATE",
        "data": {"dates": [{"id": "2026-12-03", "title": "3 Dec"}]},
    }
    tenant_server.answer = b'{"screen": "CONFIRM", "data": {"summary": "Booked 3 Dec"}}'
    assert exchange(tenant_flow, "data_exchange", "PICK_DATE", {"date": "2026-12-03"}) == {
        "screen": "CONFIRM",
        "data": {"summary": "Booked 3 Dec"},
    }

    [(init_headers, init_body), (headers, body)] = tenant_server.requests
    assert json.loads(init_body) == {
        "version": "3.0",
        "action": "INIT",
        "screen": None,
        "data": {},
        "flow_token": tenant_flow["token"],
    }
    assert json.loads(body) == {
        "version": "3.0",
        "action": "data_exchange",
        "screen": "PICK_DATE",
        "data": {"date": "2026-12-03"},
        "flow_token": tenant_flow["token"],
    }
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-id"] != init_headers["webhook-id"]
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert standard_webhooks_valid(secret, headers, body)
    assert standard_webhooks_valid(secret, init_headers, init_body)
    forged = "whsec_" + base64.b64encode(b"x" * 32).decode()
    assert not standard_webhooks_valid(forged, headers, body)


def test_an_error_message_from_the_tenant_is_shown_on_the_current_screen(api_a, tenant_flow, tenant_server):
    forward_to(api_a, tenant_flow, tenant_server.url)
    tenant_server.answer = b'{"data": {"error_message": "That date is full."}}'
    assert exchange(tenant_flow, "data_exchange", "PICK_DATE", {"date": "2026-12-03"}) == {
        "screen": "PICK_DATE",
        "data": {"error_message": "That date is full."},
    }


def test_a_slow_tenant_endpoint_is_cut_off_well_inside_metas_limit(
    api_a, tenant_flow, tenant_server, settings, caplog
):
    forward_to(api_a, tenant_flow, tenant_server.url)
    settings.FLOW_EXCHANGE_FORWARD_TIMEOUT_S = 0.5
    tenant_server.delay_s = 3.0
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    answer = exchange(tenant_flow, "data_exchange", "PICK_DATE", {"date": CUSTOMER_INPUT})
    elapsed = time.monotonic() - started
    assert answer == {"screen": "PICK_DATE", "data": {"error_message": NOT_AVAILABLE}}
    assert elapsed < 2.5
    assert "tenant_booking" in caplog.text and "0.5 s" in caplog.text
    assert "127.0.0.1" not in our_log_lines(caplog)
    assert CUSTOMER_INPUT not in caplog.text


def test_the_default_forward_timeout_is_five_seconds():
    from django.conf import settings

    assert settings.FLOW_EXCHANGE_FORWARD_TIMEOUT_S == 5.0


@pytest.mark.parametrize(
    "status, answer, reason",
    [
        (500, b'{"screen": "CONFIRM", "data": {}}', "HTTP 500"),
        (302, b"", "HTTP 302"),
        (200, b"<html>oops</html>", "not JSON"),
        (200, b'["CONFIRM"]', "no data object"),
        (200, b'{"screen": "CONFIRM"}', "no data object"),
        (200, b'{"screen": "NOWHERE", "data": {}}', "does not have"),
        (200, b'{"screen": "CONFIRM", "data": {}, "extra": 1}', "other than screen and data"),
        (200, b'{"data": {"summary": "no screen"}}', "no error_message"),
        (200, json.dumps({"screen": "CONFIRM", "data": {"x": "y" * 70_000}}).encode(), "larger than"),
    ],
)
def test_a_bad_tenant_answer_becomes_metas_screen_error(
    api_a, tenant_flow, tenant_server, caplog, status, answer, reason
):
    secret = forward_to(api_a, tenant_flow, tenant_server.url)
    tenant_server.status, tenant_server.answer = status, answer
    caplog.set_level(logging.INFO)
    assert exchange(tenant_flow, "data_exchange", "PICK_DATE", {"date": CUSTOMER_INPUT}) == {
        "screen": "PICK_DATE",
        "data": {"error_message": NOT_AVAILABLE},
    }
    assert reason in our_log_lines(caplog)
    assert CUSTOMER_INPUT not in caplog.text and secret not in caplog.text
    assert tenant_server.url not in our_log_lines(caplog)


def test_an_unreachable_tenant_endpoint_becomes_metas_screen_error(api_a, tenant_flow, allow_private):
    forward_to(api_a, tenant_flow, "http://127.0.0.1:9/closed")
    assert exchange(tenant_flow, "INIT") == {"screen": "PICK_DATE", "data": {"error_message": NOT_AVAILABLE}}


def test_the_ssrf_guard_is_checked_again_at_call_time(api_a, tenant_flow, tenant_server, settings):
    forward_to(api_a, tenant_flow, tenant_server.url)
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = False
    assert exchange(tenant_flow, "INIT") == {"screen": "PICK_DATE", "data": {"error_message": NOT_AVAILABLE}}
    assert tenant_server.requests == []


def test_a_rolled_secret_keeps_signing_next_to_the_new_one(api_a, tenant_flow, tenant_server):
    old = forward_to(api_a, tenant_flow, tenant_server.url)
    rolled = api_a.post_json(f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange/roll-secret")
    assert rolled.status_code == 200
    new = rolled.json()["secret"]
    assert new.startswith("whsec_") and new != old and rolled.json()["previous_secret_expires_at"]
    exchange(tenant_flow, "data_exchange", "PICK_DATE", {"date": "2026-12-03"})
    [(headers, body)] = tenant_server.requests
    assert len(headers["webhook-signature"].split()) == 2
    assert standard_webhooks_valid(new, headers, body) and standard_webhooks_valid(old, headers, body)


# --- static -----------------------------------------------------------------------------------

STATIC = {
    "INIT": {"screen": "PICK_DATE", "data": {"dates": [{"id": "mon", "title": "Monday"}]}},
    "PICK_DATE": {"screen": "CONFIRM", "data": {"summary": "We will call you."}},
}


def test_static_answers_are_chosen_by_screen_then_action(api_a, tenant_flow):
    put = api_a.put_json(
        f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange", {"mode": "static", "static_screens": STATIC}
    )
    assert put.status_code == 200 and put.json()["secret"] is None
    assert exchange(tenant_flow, "INIT") == STATIC["INIT"]
    assert exchange(tenant_flow, "data_exchange", "PICK_DATE", {"date": "mon"}) == STATIC["PICK_DATE"]
    assert exchange(tenant_flow, "BACK", "CONFIRM") == {
        "screen": "CONFIRM",
        "data": {"error_message": NOT_AVAILABLE},
    }


def test_a_static_success_answer_closes_the_flow_with_its_token(api_a, tenant_flow):
    answers = {
        "PICK_DATE": {"screen": "SUCCESS", "data": {"extension_message_response": {"params": {"x": 1}}}}
    }
    put = api_a.put_json(
        f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange", {"mode": "static", "static_screens": answers}
    )
    assert put.status_code == 200
    assert exchange(tenant_flow, "data_exchange", "PICK_DATE", {"date": "mon"}) == {
        "screen": "SUCCESS",
        "data": {"extension_message_response": {"params": {"x": 1, "flow_token": tenant_flow["token"]}}},
    }


@pytest.mark.parametrize(
    "static_screens, field_name",
    [
        (None, "static_screens"),
        ({}, "static_screens"),
        ({"NOWHERE": {"screen": "CONFIRM", "data": {}}}, "static_screens.NOWHERE"),
        ({"INIT": {"screen": "NOWHERE", "data": {}}}, "static_screens.INIT.screen"),
        ({"INIT": {"screen": "PICK_DATE", "data": []}}, "static_screens.INIT"),
        ({"INIT": {"screen": "PICK_DATE", "data": {}, "url": "x"}}, "static_screens.INIT"),
    ],
)
def test_static_answers_that_meta_could_not_use_are_refused(api_a, tenant_flow, static_screens, field_name):
    response = api_a.put_json(
        f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange",
        {"mode": "static", "static_screens": static_screens},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_flow_exchange" and error["details"][0]["field"] == field_name


# --- API --------------------------------------------------------------------------------------


def test_the_secret_is_shown_once_and_kept_across_edits(
    api_a, tenant_flow, tenant_server, tenant_a, in_tenant
):
    path = f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange"
    assert api_a.get(path).status_code == 404
    assert api_a.get(path).json()["error"]["code"] == "flow_exchange_not_configured"
    secret = forward_to(api_a, tenant_flow, tenant_server.url)
    assert secret.startswith("whsec_")
    got = api_a.get(path).json()
    assert got["mode"] == "forward" and got["url"] == tenant_server.url and "secret" not in got
    assert secret not in json.dumps(got)
    again = api_a.put_json(path, {"mode": "forward", "url": tenant_server.url + "/v2"})
    assert again.status_code == 200 and again.json()["secret"] is None
    with in_tenant(tenant_a):
        stored = FlowExchangeConfig.objects.get()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT secret FROM flows_builder_flowexchangeconfig")
            [(ciphertext,)] = cursor.fetchall()
    assert stored.secret.reveal() == secret and secret not in ciphertext
    assert api_a.delete(path).status_code == 204
    assert api_a.get(path).status_code == 404


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://127.0.0.1/flows", "not public"),
        ("https://10.1.2.3/flows", "not public"),
        ("http://example.com/flows", "https"),
        ("https://user:pw@example.com/flows", "user name"),
        ("", "needs the URL"),
        ("ftp://example.com/x", "absolute https"),
    ],
)
def test_the_ssrf_guard_refuses_private_or_plain_urls_at_save_time(
    api_a, tenant_flow, settings, url, message
):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = False
    response = api_a.put_json(
        f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange", {"mode": "forward", "url": url}
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_flow_exchange" and message in error["message"]
    assert error["details"][0]["field"] == "url"


def test_the_development_setting_lets_a_private_url_through(api_a, tenant_flow, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = True
    response = api_a.put_json(
        f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange",
        {"mode": "forward", "url": "http://127.0.0.1:8000/flows"},
    )
    assert response.status_code == 200


def test_an_unknown_mode_is_refused(api_a, tenant_flow):
    response = api_a.put_json(f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange", {"mode": "lookup"})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "mode"


def test_another_tenants_flow_is_not_found(api_a, api_b, tenant_flow, tenant_server, tenant_a, in_tenant):
    secret = forward_to(api_a, tenant_flow, tenant_server.url)
    path = f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange"
    for method, body in (
        ("get", None),
        ("put_json", {"mode": "forward", "url": "http://127.0.0.1:1/stolen"}),
        ("delete", None),
    ):
        response = getattr(api_b, method)(path, body) if body else getattr(api_b, method)(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "flow_not_found"
    rolled = api_b.post_json(path + "/roll-secret")
    assert rolled.status_code == 404 and rolled.json()["error"]["code"] == "flow_not_found"
    with in_tenant(tenant_a):
        stored = FlowExchangeConfig.objects.get()
    assert stored.url == tenant_server.url and stored.secret.reveal() == secret


def test_a_read_only_key_sees_the_configuration_but_cannot_change_it(api_a, tenant_flow, tenant_a):
    path = f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange"
    api_a.put_json(path, {"mode": "static", "static_screens": STATIC})
    reader = ApiClient(host_of(tenant_a), api_key_create(tenant=tenant_a, name="reader", scopes=["read"]).key)
    assert reader.get(path).status_code == 200
    for response in (
        reader.put_json(path, {"mode": "static", "static_screens": STATIC}),
        reader.delete(path),
        reader.post_json(path + "/roll-secret"),
    ):
        assert response.status_code == 403 and response.json()["error"]["code"] == "insufficient_scope"


# --- declared lookups (answered by the automations app's catalogue and orders) -----------------


def test_static_answers_fill_declared_lookups_from_the_catalogue_and_the_callers_orders(
    api_a, tenant_flow, tenant_a, in_tenant, alpha_contact
):
    with in_tenant(tenant_a):
        CatalogueItem.objects.create(name="Espresso", category="coffee", price="2.50", position=1)
        CatalogueItem.objects.create(
            name="Flat white", description="Double shot", category="coffee", price="3.20", position=2
        )
        CatalogueItem.objects.create(name="Green tea", category="tea", price="2.00")
        CatalogueItem.objects.create(name="Old roast", category="coffee", price="1.00", is_active=False)
        mine = Order.objects.create(contact=alpha_contact, number="ORD-4821", total="5.70")
        Order.objects.create(
            contact=Contact.objects.create(wa_id="4915112345678"), number="ORD-9999", total="9"
        )
    answers = {
        "INIT": {
            "screen": "PICK_DATE",
            "data": {"dates": {"$lookup": "catalogue_items", "category": "coffee"}, "title": "Pick"},
        },
        "PICK_DATE": {"screen": "CONFIRM", "data": {"orders": {"$lookup": "recent_orders", "limit": 3}}},
    }
    put = api_a.put_json(
        f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange", {"mode": "static", "static_screens": answers}
    )
    assert put.status_code == 200, put.content
    with in_tenant(tenant_a):
        espresso, flat_white = CatalogueItem.objects.filter(category="coffee", is_active=True).order_by(
            "position"
        )

    assert exchange(tenant_flow, "INIT") == {
        "screen": "PICK_DATE",
        "data": {
            "dates": [
                {"id": str(espresso.pk), "title": "Espresso", "description": "2.50"},
                {"id": str(flat_white.pk), "title": "Flat white", "description": "Double shot · 3.20"},
            ],
            "title": "Pick",
        },
    }
    assert exchange(tenant_flow, "data_exchange", "PICK_DATE", {}) == {
        "screen": "CONFIRM",
        "data": {
            "orders": [
                {
                    "id": "ORD-4821",
                    "title": "ORD-4821 · Confirmed",
                    "description": f"5.70 · {mine.created_at:%Y-%m-%d}",
                }
            ]
        },
    }


@pytest.mark.parametrize(
    "lookup, message",
    [
        ({"$lookup": "all_customers"}, "unknown lookup"),
        ({"$lookup": "catalogue_items", "where": "1=1"}, "unknown parameter where"),
    ],
)
def test_an_unknown_lookup_or_parameter_is_refused(api_a, tenant_flow, lookup, message):
    answers = {"INIT": {"screen": "PICK_DATE", "data": {"dates": lookup}}}
    response = api_a.put_json(
        f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange", {"mode": "static", "static_screens": answers}
    )
    assert response.status_code == 422
    [problem] = response.json()["error"]["details"]
    assert problem["field"] == "static_screens.INIT.data.dates" and message in problem["message"]


def test_configuration_changes_reach_the_audit_log_with_the_secret_masked(
    api_a, tenant_flow, tenant_server, tenant_a, in_tenant
):
    secret = forward_to(api_a, tenant_flow, tenant_server.url)
    rolled = api_a.post_json(f"/api/v1/flows/{tenant_flow['flow'].pk}/data-exchange/roll-secret").json()
    with in_tenant(tenant_a):
        create, roll = AuditEntry.objects.filter(object_type="flows_builder.flowexchangeconfig").order_by(
            "id"
        )
    assert create.action == "create" and create.changes["url"] == {"from": None, "to": tenant_server.url}
    assert create.changes["secret"] == {"from": None, "to": "[masked]"}
    assert roll.changes["secret"] == {"from": "[masked]", "to": "[masked]"}
    written = json.dumps([create.changes, roll.changes])
    assert secret not in written and rolled["secret"] not in written
