"""The journeys `make run`'s demo promises, end to end on the demo's own data.

The demo is set up as `make run` sets it up: `demo_seed`, the simulator seeded with
`demo_simulator_run_seed` (the demo's app, WABA and number, and the platform's development Meta app),
`demo_waba_ensure`. Customers write through the simulator (`POST /_sim/inject/message`), which signs
each webhook with its app's secret and posts it to that app's path (`--webhook-url .../{app_id}`, here
a local receiver). Each delivery is then replayed unchanged (path, signature, body) through the real
webhook endpoint, the journal and its worker, the automations and the send pipeline, and the test
reads the exact Graph requests the simulator received. Everything runs in the test's transaction.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from django.test import Client
from django_tenants.utils import schema_context

from automations.models import Order
from flows_builder.models import FlowToken, WhatsAppFlow
from graph_simulator import SimulatorHandle
from knowledge.models import KnowledgeAnswer
from messaging.models import Message
from platform_core import demo as demo_module
from platform_core.demo import (
    DEMO_EMBEDDED_SIGNUP_CONFIG_ID,
    DEMO_FAQ,
    DEMO_PLATFORM_APP_ID,
    DEMO_PLATFORM_APP_SECRET,
    DemoCredentials,
    demo_platform_app_settings,
    demo_seed,
    demo_simulator_run_seed,
    demo_simulator_seed,
    demo_waba_ensure,
    demo_wizard_steps,
)
from platform_core.management.commands.run_platform import Command as RunPlatform
from tenants.models import MetaRoute, Tenant
from tests.console.test_auth import _csrf
from tests.graph_simulator.receiver import WebhookReceiver
from tests.sending.helpers import drain
from tests.webhooks.conftest import process_journal
from waba.models import WhatsAppAccount
from webhooks.meta_apps import webhook_apps_forget
from webhooks.signature import compute_signature
from webhooks.throttle import inbound_throttle_reset

SEED = demo_simulator_seed()
DEMO_APP_ID, DEMO_APP_SECRET = SEED["apps"][0]["app_id"], SEED["apps"][0]["app_secret"]
DEMO_PHONE_ID = demo_wizard_steps(SEED)["phone-number"]["phone_number_id"]
GREETING = demo_wizard_steps(SEED)["bot-configuration"]["greeting_message"]
MAIN_MENU = {
    "type": "button",
    "body": {"text": "Hello! How can we help you today?"},
    "action": {"buttons": [
        {"type": "reply", "reply": {"id": "track_order", "title": "Track Order"}},
        {"type": "reply", "reply": {"id": "place_order", "title": "Place Order"}},
        {"type": "reply", "reply": {"id": "get_support", "title": "Get Support"}},
    ]},
}
ORIGIN = "http://demo.localhost:8000"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@dataclass
class Demo:
    tenant: Tenant
    credentials: DemoCredentials
    simulator: SimulatorHandle
    receiver: WebhookReceiver
    public: Client = field(default_factory=lambda: Client(HTTP_HOST="localhost"))
    relayed: int = 0

    def relay(self, *, until_message: str) -> None:
        """Wait for the simulator's webhook carrying the message `until_message`, then post everything
        it delivered since the last relay to the platform's webhook endpoint, as Meta would."""
        self.receiver.wait_for(lambda: any(m["id"] == until_message for m in self.receiver.messages()))
        deliveries = self.receiver.deliveries[self.relayed:]
        self.relayed += len(deliveries)
        for delivery in deliveries:
            response = self.public.generic(
                "POST", delivery.path, delivery.raw_body, content_type="application/json",
                headers={"X-Hub-Signature-256": delivery.headers["x-hub-signature-256"]},
            )
            assert response.status_code == 200, (delivery.path, response.content)

    def sent_from(self, phone_number_id: str) -> list[dict]:
        """The bodies of the messages the platform sent from that number, in order, without the
        pipeline's own correlation id."""
        requests = self.simulator.requests(path_contains=f"/{phone_number_id}/messages", method="POST")
        return [{k: v for k, v in r["body"].items() if k != "biz_opaque_callback_data"} for r in requests]


@pytest.fixture
def demo(db, graph_simulator, receiver, settings, tmp_path, monkeypatch) -> Iterator[Demo]:
    """The demo as `make run` leaves it, its simulator posting webhooks to `receiver`."""
    monkeypatch.setattr(demo_module, "CREDENTIALS_FILE", tmp_path / "demo-credentials.json")
    settings.PAIR_RATE_INTERVAL_S = 0.01  # Meta's pacing to one recipient (6 s) is not what these tests are about
    settings.META_APP_ID = settings.META_APP_SECRET = settings.META_EMBEDDED_SIGNUP_CONFIG_ID = ""
    for name, value in demo_platform_app_settings().items():  # what run_platform gives every process
        setattr(settings, name, value)
    settings.EMBEDDED_SIGNUP_POPUP = "simulator"
    monkeypatch.setattr(graph_simulator.simulator.state, "default_webhook_url", receiver.url + "/{app_id}")
    graph_simulator.seed(demo_simulator_run_seed())
    graph_simulator.configure(template_review_delay_s=0, status_delay_ms=5)
    receiver.clear()
    webhook_apps_forget()
    inbound_throttle_reset()

    credentials = demo_seed()
    demo_waba_ensure(review_wait_s=5)
    yield Demo(Tenant.objects.get(slug="demo"), credentials, graph_simulator, receiver)
    webhook_apps_forget()


@dataclass
class Customer:
    demo: Demo
    wa_id: str
    name: str
    phone_number_id: str = DEMO_PHONE_ID

    def says(self, text: str) -> list[dict]:
        return self.sends({"type": "text", "text": {"body": text}})

    def taps(self, option_id: str, title: str, *, row: bool = False) -> list[dict]:
        kind = "list_reply" if row else "button_reply"
        return self.sends({"type": "interactive", "interactive": {"type": kind, kind: {"id": option_id, "title": title}}})

    def sends(self, message: dict) -> list[dict]:
        """Write to the number through the simulator; returns what the platform answered at Meta."""
        before = len(self.demo.sent_from(self.phone_number_id))
        injected = httpx.post(
            f"{self.demo.simulator.base_url}/_sim/inject/message",
            json={"phone_number_id": self.phone_number_id, "from": self.wa_id, "profile_name": self.name, **message},
            timeout=5,
        )
        injected.raise_for_status()
        self.demo.relay(until_message=injected.json()["wamid"])
        process_journal()
        drain(self.demo.tenant)
        return self.demo.sent_from(self.phone_number_id)[before:]


def _text(to: str, body: str) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"body": body, "preview_url": False}}


def _interactive(to: str, interactive: dict) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "interactive",
            "interactive": interactive}


def _row_id(sent: dict, title: str) -> str:
    sections = sent["interactive"]["action"]["sections"]
    return next(row["id"] for section in sections for row in section["rows"] if row["title"] == title)


def test_starlink_gets_the_published_starlink_flow(demo):
    customer = Customer(demo, "4915112345101", "Kerry Fisher")

    greeting, sent = customer.says("starlink")

    with schema_context(demo.tenant.schema_name):
        flow = WhatsAppFlow.objects.get(name="starlink_installation")
        token = FlowToken.objects.get(flow=flow, contact__wa_id=customer.wa_id).token
    assert flow.meta_status == "PUBLISHED" and flow.meta_flow_id
    assert {(f["id"], f["status"]) for f in demo.simulator.state.snapshot()["flows"]} >= {(flow.meta_flow_id, "PUBLISHED")}
    assert greeting == _text(customer.wa_id, GREETING)  # a first message: the demo's greeting comes first
    assert sent == _interactive(customer.wa_id, {
        "type": "flow",
        "body": {"text": "Book a Starlink installation: contact details, kit and mount, date and address."},
        "action": {"name": "flow", "parameters": {
            "flow_message_version": "3",
            "flow_token": token,
            "flow_id": flow.meta_flow_id,
            "flow_cta": "Start",
            "mode": "published",
            "flow_action": "navigate",
            "flow_action_payload": {"screen": "CUSTOMER_INFO"},
        }},
    })


def test_help_opens_the_main_menu(demo):
    customer = Customer(demo, "4915112345102", "Tom Becker")
    customer.says("Good morning")  # the greeting, alone

    [menu] = customer.says("help")

    assert menu == _interactive(customer.wa_id, MAIN_MENU)


def test_a_three_item_order_is_placed_and_tracked_by_its_number_in_one_message(demo):
    customer = Customer(demo, "4915112345103", "Aisha Khan")
    greeting, menu = customer.says("Hi")
    assert greeting == _text(customer.wa_id, GREETING) and menu == _interactive(customer.wa_id, MAIN_MENU)

    [products] = customer.taps("place_order", "Place Order")
    for title, quantity in (("Coffee", "2"), ("Tea", "1"), ("Croissant", "3")):
        [ask] = customer.taps(_row_id(products, title), title, row=True)
        assert ask == _text(customer.wa_id, f"How many {title} would you like?")
        [cart] = customer.says(quantity)
        if title != "Croissant":
            [products] = customer.taps("add_more", "Add another")
    lines = "Coffee × 2 = 240\nTea × 1 = 90\nCroissant × 3 = 450\nTotal: 780"
    assert cart["interactive"]["body"]["text"] == f"Added Croissant × 3.\n\nYour cart:\n{lines}"
    [summary] = customer.taps("checkout", "Checkout")
    assert summary["interactive"]["body"]["text"] == f"Your order:\n{lines}\n\nShall we place it?"
    [confirmation] = customer.taps("confirm", "Confirm")

    with schema_context(demo.tenant.schema_name):
        order = Order.objects.get(customer_wa_id=customer.wa_id)
        items = [(item.name, item.quantity, str(item.line_total)) for item in order.items.all()]
    assert re.fullmatch(r"ORD-\d{4}", order.number) and order.status == "confirmed" and str(order.total) == "780.00"
    assert items == [("Coffee", 2, "240.00"), ("Tea", 1, "90.00"), ("Croissant", 3, "450.00")]
    assert confirmation == _text(
        customer.wa_id,
        f"Thank you! Your order {order.number} is placed.\n{lines}\n\nSend \"track {order.number}\" to follow it.",
    )

    [status] = customer.says(f"track {order.number}")

    assert status == _interactive(customer.wa_id, {
        "type": "button",
        "body": {"text": f"Order {order.number}: Confirmed."},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": "track_again", "title": "Track Again"}},
            {"type": "reply", "reply": {"id": "menu", "title": "Main Menu"}},
        ]},
    })
    # Another customer cannot follow it.
    other = Customer(demo, "4915112345104", "Ken Ito")
    other.says("Good morning")
    assert other.says(f"track {order.number}") == [
        _text(other.wa_id, f"I could not find order {order.number} for your number.")]


def test_an_faq_question_is_answered_from_the_demos_knowledge_base(demo):
    customer = Customer(demo, "4915112345105", "Maria Schmidt")

    greeting, answer = customer.says("Do you deliver to Hamburg?")  # a new customer's first message

    assert greeting == _text(customer.wa_id, GREETING)
    shipping = next(entry for entry in DEMO_FAQ if entry["question"] == "Do you ship to Hamburg?")
    assert answer == _text(customer.wa_id, shipping["answer"])
    with schema_context(demo.tenant.schema_name):
        logged = KnowledgeAnswer.objects.select_related("entry").get()
    assert (logged.outcome, logged.source, logged.entry.question) == ("answered", "search", shipping["question"])


def _signup_window(simulator, **form) -> dict:
    """Finish the simulator's stand-in for Facebook's window as the business would; returns what it
    hands the console page: the session-info data and the login response's code."""
    response = httpx.post(f"{simulator.base_url}/_signup/dialog",
                          data={"client_id": DEMO_PLATFORM_APP_ID, "origin": ORIGIN, **form}, timeout=5)
    assert response.status_code == 200, response.text
    found = re.search(r'<script type="application/json" id="signup-result">(.*?)</script>', response.text)
    assert found, response.text
    session_info, login = json.loads(found.group(1))["messages"]
    return {**session_info["data"], "code": login["response"]["authResponse"]["code"]}


def test_a_new_business_connects_its_number_with_embedded_signup_and_its_webhooks_reach_the_demo(
    demo, tenant_a, in_tenant
):
    console = Client(HTTP_HOST="demo.localhost", enforce_csrf_checks=True)
    login = console.post("/app/login/", {
        "username": demo.credentials.tenant_admin_username, "password": demo.credentials.tenant_admin_password,
        "csrfmiddlewaretoken": _csrf(console, "/app/login/"),
    })
    assert login.status_code == 302
    page = console.get("/app/setup/").content.decode()
    button = re.search(r'<button type="button" class="button button-facebook" id="connect-facebook"(.*?)>', page, re.S)
    assert button, page
    assert dict(re.findall(r'data-([a-z-]+)="([^"]*)"', button.group(1))) == {
        "mode": "simulator",
        "app-id": DEMO_PLATFORM_APP_ID,
        "config-id": DEMO_EMBEDDED_SIGNUP_CONFIG_ID,
        "graph-version": "v23.0",
        "dialog-url": f"{demo.simulator.base_url}/_signup/dialog",
    }
    window = httpx.get(f"{demo.simulator.base_url}/_signup/dialog",
                       params={"client_id": DEMO_PLATFORM_APP_ID, "origin": ORIGIN}, timeout=5)
    assert window.status_code == 200 and "Connect WhatsApp to the platform (dev app)" in window.text

    signup = _signup_window(demo.simulator, account="new", business_name="Bean & Leaf Bakery",
                            display_phone_number="+49 30 1234 5678")
    before = len(demo.simulator.requests())
    done = console.post("/app/setup/embedded-signup/", {
        "code": signup["code"], "waba_id": signup["waba_id"], "phone_number_id": signup["phone_number_id"],
        "csrfmiddlewaretoken": _csrf(console, "/app/setup/"),
    })

    assert done.status_code == 302 and re.fullmatch(r"/app/accounts/\d+/", done.url), done
    account_page = console.get(done.url).content.decode()
    assert "Bean &amp; Leaf Bakery is connected and live." in account_page
    assert "+49 30 12345678" in account_page or "+49 30 1234 5678" in account_page
    calls = [(r["method"], r["object_id"], r["edge"]) for r in demo.simulator.requests()[before:]
             if "after" not in (r["query"] or {})]  # a listing's next pages
    waba_id, phone_id = signup["waba_id"], signup["phone_number_id"]
    assert calls[:7] == [
        ("GET", "oauth", "access_token"),
        ("GET", "debug_token", None),
        ("GET", waba_id, None),
        ("GET", waba_id, "phone_numbers"),
        ("POST", waba_id, "subscribed_apps"),
        ("POST", phone_id, "register"),
        ("GET", phone_id, None),
    ]
    assert demo.simulator.requests()[before]["query"]["client_id"] == DEMO_PLATFORM_APP_ID
    [waba] = [w for w in demo.simulator.state.snapshot()["wabas"] if w["id"] == waba_id]
    assert [s["app_id"] for s in waba["subscribed_apps"]] == [DEMO_PLATFORM_APP_ID]
    with schema_context(demo.tenant.schema_name):
        account = WhatsAppAccount.objects.get(waba_id=waba_id)
        phone = account.phone_numbers.get()
    assert (account.status, account.app_id, account.display_name) == ("active", DEMO_PLATFORM_APP_ID, "Bean & Leaf Bakery")
    assert (phone.phone_number_id, phone.is_registered, phone.status) == (phone_id, True, "CONNECTED")
    assert set(MetaRoute.objects.filter(external_id__in=[waba_id, phone_id]).values_list("tenant__slug", flat=True)) == {
        "demo"}

    # A customer writes to the new number: Meta posts to the platform app's path, signed with its secret.
    customer = Customer(demo, "4915112345106", "Lena Vogel", phone_number_id=phone_id)
    replies = customer.says("Hi")

    about_new_waba = [d for d in demo.receiver.deliveries if d.payload["entry"][0]["id"] == waba_id]
    assert {d.path for d in about_new_waba} == {f"/webhooks/whatsapp/{DEMO_PLATFORM_APP_ID}"}
    assert all(d.signature_valid(DEMO_PLATFORM_APP_SECRET) for d in about_new_waba)
    [delivery] = [d for d in about_new_waba if any(value.get("messages") for _, value in d.changes())]
    with schema_context(demo.tenant.schema_name):
        inbound = Message.objects.select_related("contact").get(direction="in", phone_number=phone)
    assert (inbound.contact.wa_id, inbound.body) == (customer.wa_id, "Hi")
    assert replies == [_interactive(customer.wa_id, MAIN_MENU)]  # the demo workspace's menu, from the new number
    with in_tenant(tenant_a):
        assert not Message.objects.filter(phone_number__phone_number_id=phone_id).exists()
    # The same body signed with the demo tenant's app secret is refused on the platform app's path.
    forged = demo.public.generic(
        "POST", delivery.path, delivery.raw_body, content_type="application/json",
        headers={"X-Hub-Signature-256": compute_signature(delivery.raw_body, DEMO_APP_SECRET)},
    )
    assert forged.status_code == 403


def test_make_run_gives_every_process_the_platforms_development_app_unless_the_operator_set_one(
    settings, tmp_path, monkeypatch
):
    monkeypatch.setattr(demo_module, "DEMO_SIMULATOR_RUN_SEED", tmp_path / "simulator-seed.json")
    settings.META_APP_ID = settings.META_APP_SECRET = settings.META_EMBEDDED_SIGNUP_CONFIG_ID = ""
    command = RunPlatform()

    env = command._environment(simulator_url="http://127.0.0.1:8100")
    [simulator] = [p for p in command._programs(host="127.0.0.1", port=8000, simulator_port=8100, web_workers=1,
                                                 simulator=True) if p.name == "Graph API simulator"]

    assert (env["GRAPH_API_BASE_URL"], env["META_APP_ID"], env["META_APP_SECRET"]) == (
        "http://127.0.0.1:8100", DEMO_PLATFORM_APP_ID, DEMO_PLATFORM_APP_SECRET)
    assert env["META_EMBEDDED_SIGNUP_CONFIG_ID"] == DEMO_EMBEDDED_SIGNUP_CONFIG_ID
    assert (settings.META_APP_ID, settings.META_APP_SECRET) == (DEMO_PLATFORM_APP_ID, DEMO_PLATFORM_APP_SECRET)
    options = dict(zip(simulator.command[3::2], simulator.command[4::2], strict=False))
    assert options["--webhook-url"] == "http://127.0.0.1:8000/webhooks/whatsapp/{app_id}"
    seeded = json.loads((tmp_path / "simulator-seed.json").read_text())
    assert [(app["app_id"], app["app_secret"]) for app in seeded["apps"]] == [
        (DEMO_APP_ID, DEMO_APP_SECRET), (DEMO_PLATFORM_APP_ID, DEMO_PLATFORM_APP_SECRET)]
    assert (tmp_path / "simulator-seed.json").stat().st_mode & 0o077 == 0

    # An operator's app stays (and is the one the simulator is seeded with).
    settings.META_APP_ID, settings.META_APP_SECRET = "123456789", "operator-secret"
    assert demo_platform_app_settings() == {}
    command._environment(simulator_url="http://127.0.0.1:8100")
    assert (settings.META_APP_ID, settings.META_APP_SECRET) == ("123456789", "operator-secret")
    assert [app["app_id"] for app in demo_simulator_run_seed()["apps"]] == [DEMO_APP_ID, "123456789"]

    # Against real Meta (--no-simulator) the processes get the environment as it is.
    settings.META_APP_ID = settings.META_APP_SECRET = ""
    env = command._environment(simulator_url=None)
    assert env.get("GRAPH_API_BASE_URL") == os.environ.get("GRAPH_API_BASE_URL")
    assert env.get("META_APP_ID") == os.environ.get("META_APP_ID") and settings.META_APP_ID == ""
