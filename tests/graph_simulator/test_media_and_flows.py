"""Media upload and download; Flows: assets with validation errors, publish, deprecate, delete."""

from __future__ import annotations

import json

from tests.graph_simulator.conftest import APP_SECRET, PHONE_ID, WABA_ID
from tests.graph_simulator.test_accounts import assert_meta_error

GOOD_FLOW = {
    "version": "6.0",
    "screens": [
        {"id": "WELCOME", "title": "Hi", "layout": {"type": "SingleColumnLayout", "children": []}},
        {
            "id": "DONE_SCREEN",
            "title": "Bye",
            "terminal": True,
            "layout": {"type": "SingleColumnLayout", "children": []},
        },
    ],
}
BAD_FLOW = {"version": "6.0", "screens": [{"id": "welcome"}, {"id": "SUCCESS"}, {"id": "SUCCESS"}]}


def upload_asset(graph, flow_id: str, document: dict | str):
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    return graph.post(
        f"/{flow_id}/assets",
        data={"name": "flow.json", "asset_type": "FLOW_JSON"},
        files={"file": ("flow.json", text.encode(), "application/json")},
    )


def test_media_upload_lookup_download_delete(graph):
    media_id = graph.post(
        f"/{PHONE_ID}/media",
        data={"messaging_product": "whatsapp", "type": "image/jpeg"},
        files={"file": ("a.jpg", b"\xff\xd8jpeg-bytes", "image/jpeg")},
    ).json()["id"]
    media = graph.get(f"/{media_id}").json()
    assert media["mime_type"] == "image/jpeg" and media["file_size"] == 12 and media["id"] == media_id
    assert len(media["sha256"]) == 64 and media["messaging_product"] == "whatsapp"
    assert graph.get(media["url"]).content == b"\xff\xd8jpeg-bytes"
    assert graph.delete(f"/{media_id}").json() == {"success": True}
    assert_meta_error(graph.get(f"/{media_id}"), 400, 100)


def test_flow_json_structural_errors_are_reported_with_positions(graph):
    flow_id = graph.post(
        f"/{WABA_ID}/flows", json={"name": "Booking", "categories": ["APPOINTMENT_BOOKING"]}
    ).json()["id"]
    result = upload_asset(graph, flow_id, BAD_FLOW).json()
    assert result["success"] is True
    errors = {e["error"] for e in result["validation_errors"]}
    assert errors == {"INVALID_PROPERTY_VALUE", "DUPLICATE_SCREEN_ID"}
    for error in result["validation_errors"]:
        assert {
            "error_type",
            "message",
            "line_start",
            "line_end",
            "column_start",
            "column_end",
            "pointers",
        } <= error.keys()
    broken = upload_asset(graph, flow_id, "{not json").json()["validation_errors"]
    assert broken[0]["error"] == "INVALID_JSON"
    assert upload_asset(graph, flow_id, {"screens": []}).json()["validation_errors"]


def test_flow_lifecycle(graph, receiver):
    flow_id = graph.post(f"/{WABA_ID}/flows", json={"name": "Signup", "categories": ["SIGN_UP"]}).json()["id"]
    assert_meta_error(graph.post(f"/{flow_id}/publish"), 400, 139002)  # no asset yet
    upload_asset(graph, flow_id, BAD_FLOW)
    assert_meta_error(graph.post(f"/{flow_id}/publish"), 400, 139002)  # asset has errors
    assert_meta_error(graph.post(f"/{flow_id}/deprecate"), 400, 100)  # not published
    assert upload_asset(graph, flow_id, GOOD_FLOW).json() == {"success": True, "validation_errors": []}
    assert graph.post(f"/{flow_id}/publish").json() == {"success": True}
    flow = graph.get(f"/{flow_id}", params={"fields": "status,json_version,validation_errors,preview"}).json()
    assert flow["status"] == "PUBLISHED" and flow["json_version"] == "6.0" and flow["validation_errors"] == []
    assert flow["preview"]["preview_url"]
    assert_meta_error(upload_asset(graph, flow_id, GOOD_FLOW), 400, 139001)  # published flows are immutable
    assert_meta_error(graph.delete(f"/{flow_id}"), 400, 100)  # only drafts can be deleted
    assert graph.post(f"/{flow_id}/deprecate").json() == {"success": True}
    assert graph.get(f"/{flow_id}").json()["status"] == "DEPRECATED"
    changes = receiver.wait_for(lambda: len(receiver.changes("flows")) == 2 and receiver.changes("flows"))
    assert [v["new_status"] for _, v in changes] == ["PUBLISHED", "DEPRECATED"]
    assert all(d.signature_valid(APP_SECRET) for d in receiver.deliveries)


def test_flow_created_with_json_and_publish_and_listed(graph):
    created = graph.post(
        f"/{WABA_ID}/flows",
        json={
            "name": "Survey",
            "categories": ["SURVEY"],
            "flow_json": json.dumps(GOOD_FLOW),
            "publish": True,
        },
    ).json()
    assert created["success"] is True and created["validation_errors"] == []
    draft_id = graph.post(f"/{WABA_ID}/flows", json={"name": "Draft", "categories": ["OTHER"]}).json()["id"]
    listed = {f["name"]: f["status"] for f in graph.get(f"/{WABA_ID}/flows").json()["data"]}
    assert listed == {"Survey": "PUBLISHED", "Draft": "DRAFT"}
    assert graph.delete(f"/{draft_id}").json() == {"success": True}
    assert_meta_error(
        graph.post(f"/{WABA_ID}/flows", json={"name": "Survey", "categories": ["SURVEY"]}), 400, 100
    )
    assert_meta_error(graph.post(f"/{WABA_ID}/flows", json={"name": "X", "categories": ["NOPE"]}), 400, 100)
