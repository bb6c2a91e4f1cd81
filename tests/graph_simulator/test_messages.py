"""POST /{phone_number_id}/messages: Meta's answers, its limits and its errors."""

from __future__ import annotations

import pytest

from tests.graph_simulator.conftest import CUSTOMER, PHONE_ID, WABA_ID
from tests.graph_simulator.test_accounts import assert_meta_error


def send(graph, **message):
    return graph.post(
        f"/{PHONE_ID}/messages", json={"messaging_product": "whatsapp", "to": CUSTOMER, **message}
    )


def buttons(count: int, *, same_id: bool = False) -> dict:
    return {
        "type": "button",
        "body": {"text": "Pick one"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "same" if same_id else f"b{i}", "title": f"Option {i}"}}
                for i in range(count)
            ]
        },
    }


def list_message(rows_per_section: list[int], **overrides) -> dict:
    sections = [
        {"title": f"Section {s}", "rows": [{"id": f"r{s}-{r}", "title": f"Row {r}"} for r in range(rows)]}
        for s, rows in enumerate(rows_per_section)
    ]
    action = {"button": "Menu", "sections": sections} | overrides
    return {"type": "list", "body": {"text": "Choose"}, "action": action}


def flow_message(**parameters) -> dict:
    defaults = {
        "flow_message_version": "3",
        "flow_token": "tok",
        "flow_id": "555",
        "flow_cta": "Book now",
        "flow_action": "navigate",
        "mode": "published",
    }
    return {
        "type": "flow",
        "body": {"text": "Book"},
        "action": {"name": "flow", "parameters": defaults | parameters},
    }


def test_text_send_answers_like_meta(graph):
    body = send(graph, type="text", text={"body": "Hello", "preview_url": False}).json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    (message,) = body["messages"]
    assert message["id"].startswith("wamid.")
    assert send(graph, type="text", text={"body": "again"}).json()["messages"][0]["id"] != message["id"]


@pytest.mark.parametrize(
    "message",
    [
        {"type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "hi"}},
        {"type": "document", "document": {"id": "123", "filename": "a.pdf"}},
        {"type": "location", "location": {"latitude": 1.5, "longitude": 2.5, "name": "Shop"}},
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Ann"}}]},
        {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
        {"type": "interactive", "interactive": buttons(3)},
        {"type": "interactive", "interactive": list_message([5, 5])},
        {"type": "interactive", "interactive": flow_message()},
        {
            "type": "text",
            "text": {"body": "reply"},
            "context": {"message_id": "wamid.Y"},
            "biz_opaque_callback_data": "x" * 512,
        },
    ],
    ids=["image", "document", "location", "contacts", "reaction", "3-buttons", "10-rows", "flow", "context"],
)
def test_valid_messages_are_accepted(graph, message):
    response = send(graph, **message)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "text", "text": {"body": "x" * 4097}}, 100),
        ({"type": "text", "text": {}}, 131008),
        ({"type": "interactive", "interactive": buttons(4)}, 131009),
        ({"type": "interactive", "interactive": buttons(2, same_id=True)}, 131009),
        ({"type": "interactive", "interactive": list_message([6, 5])}, 131009),
        ({"type": "interactive", "interactive": list_message([1] * 11)}, 131009),
        ({"type": "interactive", "interactive": list_message([1], button="x" * 21)}, 131009),
        ({"type": "interactive", "interactive": flow_message(flow_cta="x" * 21)}, 131009),
        ({"type": "interactive", "interactive": flow_message(flow_message_version="2")}, 131009),
        ({"type": "image", "image": {"id": "1", "link": "https://example.com/a.jpg"}}, 131008),
        ({"type": "text", "text": {"body": "hi"}, "biz_opaque_callback_data": "x" * 513}, 131009),
        ({"type": "carrier_pigeon", "carrier_pigeon": {}}, 100),
    ],
    ids=[
        "text-4097",
        "text-empty",
        "4-buttons",
        "duplicate-button-ids",
        "11-rows",
        "11-sections",
        "menu-button-21",
        "flow-cta-21",
        "flow-version",
        "id-and-link",
        "opaque-513",
        "unknown-type",
    ],
)
def test_invalid_messages_get_meta_errors(graph, message, code):
    error = assert_meta_error(send(graph, **message), 400, code)
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"]


def test_missing_top_level_parameters(graph):
    assert (
        "messaging_product"
        in assert_meta_error(
            graph.post(f"/{PHONE_ID}/messages", json={"to": CUSTOMER, "type": "text", "text": {"body": "x"}}),
            400,
            100,
        )["message"]
    )
    assert (
        "parameter to"
        in assert_meta_error(
            graph.post(
                f"/{PHONE_ID}/messages",
                json={"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}},
            ),
            400,
            100,
        )["message"]
    )


def test_template_send_checks_parameters_and_approval(graph, control):
    def template(name="order_update", language="en_US", parameters=2):
        return {
            "type": "template",
            "template": {
                "name": name,
                "language": {"code": language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": f"p{i}"} for i in range(parameters)],
                    }
                ],
            },
        }

    accepted = send(graph, **template()).json()["messages"][0]
    assert accepted["message_status"] == "accepted"
    assert "132000" in assert_meta_error(send(graph, **template(parameters=1)), 400, 132000)["message"]
    assert_meta_error(send(graph, **template(name="nope")), 404, 132001)
    assert_meta_error(send(graph, **template(language="fr")), 404, 132001)
    control.post(
        "/template_status",
        json={"waba_id": WABA_ID, "name": "order_update", "language": "en_US", "status": "PAUSED"},
    )
    assert_meta_error(send(graph, **template()), 400, 132015)


def test_read_receipt(graph):
    response = graph.post(
        f"/{PHONE_ID}/messages",
        json={"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.ABC"},
    )
    assert response.json() == {"success": True}


def test_window_is_enforced_only_when_switched_on(graph, control):
    assert send(graph, type="text", text={"body": "hi"}).status_code == 200
    control.post("/config", json={"enforce_window": True})
    assert_meta_error(send(graph, type="text", text={"body": "hi"}), 400, 131047)
    template = {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
        ],
    }
    assert send(graph, type="template", template=template).status_code == 200
    control.post(
        "/inject/message",
        json={"phone_number_id": PHONE_ID, "from": CUSTOMER, "type": "text", "text": {"body": "hello"}},
    )
    assert send(graph, type="text", text={"body": "hi"}).status_code == 200


def test_throughput_is_enforced_when_switched_on(graph, control):
    control.post("/config", json={"enforce_throughput": True})
    control.post("/phone_quality", json={"phone_number_id": PHONE_ID, "throughput_level": "COEXISTENCE"})
    responses = [
        send(graph, type="text", text={"body": "x"}) for _ in range(45)
    ]  # 20/s: one second can't fit
    refused = [r for r in responses if r.status_code != 200]
    assert refused and {r.json()["error"]["code"] for r in refused} == {130429}
