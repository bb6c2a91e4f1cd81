"""Outbound webhooks: statuses after sends, inbound messages from a simulated customer, retries."""

from __future__ import annotations

import json
import time

import httpx

from graph_simulator import start_simulator
from tests.graph_simulator.conftest import APP_SECRET, CUSTOMER, PHONE_ID, TOKEN, WABA_ID
from tests.graph_simulator.test_messages import send


def statuses_of(receiver, wamid: str, count: int) -> list[dict]:
    return receiver.wait_for(
        lambda: (
            (found := [s for s in receiver.statuses() if s["id"] == wamid]) and len(found) >= count and found
        )
    )


def test_send_is_followed_by_signed_sent_delivered_read(graph, receiver):
    wamid = send(graph, type="text", text={"body": "hi"}, biz_opaque_callback_data="msg-42").json()[
        "messages"
    ][0]["id"]
    statuses = statuses_of(receiver, wamid, 3)
    assert sorted(s["status"] for s in statuses) == ["delivered", "read", "sent"]  # Meta promises no order
    for status in statuses:
        assert status["recipient_id"] == CUSTOMER
        assert status["biz_opaque_callback_data"] == "msg-42"
        assert status["timestamp"].isdigit()
        assert status["conversation"]["origin"] == {"type": "service"}
        assert status["pricing"]["pricing_model"] == "PMP" and status["pricing"]["category"] == "service"
    sent = next(s for s in statuses if s["status"] == "sent")
    assert sent["conversation"]["expiration_timestamp"].isdigit()
    delivery = receiver.deliveries[0]
    assert delivery.signature_valid(APP_SECRET)
    assert delivery.headers["content-type"] == "application/json"
    payload = delivery.payload
    assert payload["object"] == "whatsapp_business_account"
    assert payload["entry"][0]["id"] == WABA_ID
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {"display_phone_number": "15550100001", "phone_number_id": PHONE_ID}


def test_template_status_carries_template_category(graph, receiver):
    wamid = send(
        graph,
        type="template",
        template={
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
            ],
        },
    ).json()["messages"][0]["id"]
    sent = statuses_of(receiver, wamid, 1)[0]
    assert sent["conversation"]["origin"]["type"] == "utility"
    assert sent["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "category": "utility",
        "type": "regular",
    }


def test_undeliverable_recipient_gets_failed_131026(graph, control, receiver):
    control.post("/config", json={"undeliverable": [CUSTOMER]})
    wamid = send(graph, type="text", text={"body": "hi"}).json()["messages"][0]["id"]
    (failed,) = statuses_of(receiver, wamid, 1)
    assert failed["status"] == "failed"
    assert failed["errors"][0]["code"] == 131026
    assert failed["errors"][0]["error_data"]["details"]
    time.sleep(0.05)
    assert [s["status"] for s in receiver.statuses() if s["id"] == wamid] == ["failed"]


def test_status_webhooks_can_be_switched_off(graph, control, receiver):
    control.post("/config", json={"status_webhooks": False})
    send(graph, type="text", text={"body": "quiet"})
    time.sleep(0.1)
    assert receiver.statuses() == []


def test_injected_customer_message_arrives_signed(control, receiver):
    wamid = control.post(
        "/inject/message",
        json={
            "phone_number_id": PHONE_ID,
            "from": CUSTOMER,
            "profile_name": "Ann",
            "type": "text",
            "text": {"body": "Hello there"},
        },
    ).json()["wamid"]
    (message,) = receiver.wait_for(receiver.messages)
    assert message == {
        "from": CUSTOMER,
        "id": wamid,
        "timestamp": message["timestamp"],
        "type": "text",
        "text": {"body": "Hello there"},
    }
    value = receiver.changes("messages")[0][1]
    assert value["contacts"] == [{"profile": {"name": "Ann"}, "wa_id": CUSTOMER}]
    assert receiver.deliveries[0].signature_valid(APP_SECRET)


def test_injected_image_gets_a_downloadable_media_id(sim, control, receiver):
    result = control.post(
        "/inject/message",
        json={
            "phone_number_id": PHONE_ID,
            "from": CUSTOMER,
            "type": "image",
            "image": {"caption": "look", "mime_type": "image/png", "content_base64": "iVBORw0K"},
        },
    ).json()
    (message,) = receiver.wait_for(receiver.messages)
    assert message["image"]["id"] == result["media_id"] and message["image"]["caption"] == "look"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    media = control.get(f"{sim.base_url}/v23.0/{result['media_id']}", headers=auth).json()
    assert media["mime_type"] == "image/png" and media["file_size"] == 6
    download = control.get(media["url"], headers=auth)
    assert download.content == b"\x89PNG\r\n" and download.headers["content-type"] == "image/png"
    assert control.get(media["url"]).status_code == 401


def test_injected_interactive_replies_pass_through(control, receiver):
    control.post(
        "/inject/message",
        json={
            "phone_number_id": PHONE_ID,
            "from": CUSTOMER,
            "type": "interactive",
            "context": {"id": "wamid.menu"},
            "interactive": {
                "type": "nfm_reply",
                "nfm_reply": {
                    "name": "flow",
                    "body": "Sent",
                    "response_json": {"flow_token": "ft-1", "a": 1},
                },
            },
        },
    )
    (message,) = receiver.wait_for(receiver.messages)
    assert message["context"] == {"from": "15550100001", "id": "wamid.menu"}
    assert json.loads(message["interactive"]["nfm_reply"]["response_json"])["flow_token"] == "ft-1"


def test_inject_arbitrary_webhook(control, receiver):
    control.post(
        "/inject/webhook",
        json={"waba_id": WABA_ID, "field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}},
    )
    _, value = receiver.wait_for(lambda: receiver.changes("account_update"))[0]
    assert value == {"event": "VERIFIED_ACCOUNT"}
    assert "time" in receiver.deliveries[0].payload["entry"][0]


def test_failed_delivery_is_retried_then_counted(control, receiver):
    receiver.fail_next.extend([500])
    control.post("/inject/message", json={"phone_number_id": PHONE_ID, "from": CUSTOMER, "type": "text"})
    receiver.wait_for(receiver.messages)
    stats = receiver.wait_for(
        lambda: (s := control.get("/stats").json()["webhooks"])["events_delivered"] and s
    )
    # At least: a status webhook of an earlier test still in flight at the reset may land and count.
    assert stats["posts_failed"] == 1 and stats["retries"] == 1 and stats["events_delivered"] >= 1
    receiver.fail_next.extend([500, 500, 500])
    control.post("/inject/message", json={"phone_number_id": PHONE_ID, "from": CUSTOMER, "type": "text"})
    receiver.wait_for(lambda: control.get("/stats").json()["webhooks"]["events_failed"] == 1)


def test_require_subscription_holds_webhooks_until_subscribed(graph, control, receiver):
    control.post("/config", json={"require_subscription": True})
    control.post("/inject/message", json={"phone_number_id": PHONE_ID, "from": CUSTOMER, "type": "text"})
    assert control.get("/stats").json()["webhooks"]["events_dropped"] == 1
    graph.post(f"/{WABA_ID}/subscribed_apps")
    control.post("/inject/message", json={"phone_number_id": PHONE_ID, "from": CUSTOMER, "type": "text"})
    assert len(receiver.wait_for(receiver.messages)) == 1


def test_window_error_can_come_as_a_failed_status_like_meta(graph, control, receiver):
    control.post("/config", json={"enforce_window": True, "window_error": "webhook"})
    response = send(graph, type="text", text={"body": "late"}, biz_opaque_callback_data="m-7")
    assert response.status_code == 200
    (failed,) = statuses_of(receiver, response.json()["messages"][0]["id"], 1)
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
    assert failed["biz_opaque_callback_data"] == "m-7"


def test_an_app_id_in_the_default_webhook_url_sends_each_apps_webhooks_to_its_own_path(receiver):
    """`make run`'s simulator: the demo's app and the platform's app both rely on --webhook-url."""
    receiver.clear()
    with start_simulator(port=0, webhook_url=receiver.url + "/{app_id}") as simulator:
        simulator.seed(
            {
                "apps": [
                    {"app_id": "1001", "app_secret": "tenant-app-secret"},
                    {"app_id": "2002", "app_secret": "platform-app-secret"},
                ],
                "wabas": [
                    {"id": "501", "app_id": "1001", "phone_numbers": [{"id": "601", "display_phone_number": "+1 555 0601"}]},
                    {"id": "502", "app_id": "1001", "phone_numbers": [{"id": "602", "display_phone_number": "+1 555 0602"}]},
                    {"id": "503", "phone_numbers": [{"id": "603", "display_phone_number": "+1 555 0603"}]},
                ],
                "tokens": [{"token": "EAAplatform", "app_id": "2002", "waba_ids": ["502"]}],
            }
        )
        httpx.post(
            f"{simulator.base_url}/v23.0/502/subscribed_apps", headers={"Authorization": "Bearer EAAplatform"}
        ).raise_for_status()
        for phone_number_id in ("601", "602", "603"):
            httpx.post(
                f"{simulator.base_url}/_sim/inject/message",
                json={"phone_number_id": phone_number_id, "from": CUSTOMER, "text": {"body": phone_number_id}},
            ).raise_for_status()
        receiver.wait_for(lambda: len(receiver.deliveries) == 2)
        dropped = simulator.simulator.webhooks.stats()["events_dropped"]

    deliveries = sorted(receiver.deliveries, key=lambda delivery: delivery.path)
    assert [(d.path, d.payload["entry"][0]["id"]) for d in deliveries] == [
        ("/webhooks/whatsapp/1001", "501"),
        ("/webhooks/whatsapp/2002", "502"),  # subscribed by the platform's app: its path, its secret
    ]
    assert deliveries[0].signature_valid("tenant-app-secret")
    assert deliveries[1].signature_valid("platform-app-secret")
    assert dropped == 1  # a WABA without an app has no path to go to
