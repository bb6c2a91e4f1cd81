"""Templates: creation, the review webhook (APPROVED / REJECTED, signed), paging, deletion."""

from __future__ import annotations

from tests.graph_simulator.conftest import APP_SECRET, WABA_ID
from tests.graph_simulator.test_accounts import assert_meta_error


def template(name: str, body: str = "Hello {{1}}, your code is {{2}}.", **extra) -> dict:
    return {
        "name": name,
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": body}],
        **extra,
    }


def review_of(receiver, template_id: str) -> dict:
    return receiver.wait_for(
        lambda: next(
            (
                v
                for _, v in receiver.changes("message_template_status_update")
                if str(v["message_template_id"]) == template_id
            ),
            None,
        )
    )


def test_created_template_is_pending_then_approved_by_signed_webhook(graph, receiver):
    created = graph.post(f"/{WABA_ID}/message_templates", json=template("welcome_back")).json()
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    review = review_of(receiver, created["id"])
    assert review["event"] == "APPROVED"
    assert review["message_template_name"] == "welcome_back"
    assert review["message_template_language"] == "en_US"
    assert all(d.signature_valid(APP_SECRET) for d in receiver.deliveries)
    assert not receiver.deliveries[0].signature_valid("forged-secret")
    listed = graph.get(f"/{WABA_ID}/message_templates", params={"name": "welcome_back"}).json()["data"]
    assert listed[0]["status"] == "APPROVED"


def test_broken_templates_are_rejected_with_a_reason(graph, receiver):
    cases = {
        "gap_in_variables": template("gap_in_variables", body="Hi {{1}} and {{3}}"),
        "Bad-Name": template("Bad-Name"),
        "empty_body": template("empty_body", body="  "),
    }
    ids = {
        name: graph.post(f"/{WABA_ID}/message_templates", json=body).json()["id"]
        for name, body in cases.items()
    }
    for template_id in ids.values():
        review = review_of(receiver, template_id)
        assert review["event"] == "REJECTED" and review["reason"] == "INVALID_FORMAT"


def test_review_delay_keeps_template_pending_until_it_passes(graph, control, receiver):
    control.post("/config", json={"template_review_delay_s": 0.1})
    created = graph.post(f"/{WABA_ID}/message_templates", json=template("slow_review")).json()
    assert graph.get(f"/{created['id']}").json()["status"] == "PENDING"
    assert review_of(receiver, created["id"])["event"] == "APPROVED"


def test_duplicate_and_malformed_creation(graph):
    assert graph.post(f"/{WABA_ID}/message_templates", json=template("twice")).status_code == 200
    error = assert_meta_error(graph.post(f"/{WABA_ID}/message_templates", json=template("twice")), 400, 100)
    assert error["error_subcode"] == 2388024
    assert_meta_error(
        graph.post(f"/{WABA_ID}/message_templates", json=template("x", category="SPAM")), 400, 100
    )
    assert_meta_error(graph.post(f"/{WABA_ID}/message_templates", json={"name": "no_language"}), 400, 100)


def test_list_pages_with_cursors_and_filters(graph, control):
    control.post(
        "/seed",
        json={
            "templates": [
                {"waba_id": WABA_ID, "name": f"bulk_{i}", "language": "en_US", "category": "MARKETING"}
                for i in range(5)
            ]
        },
    )
    first = graph.get(f"/{WABA_ID}/message_templates", params={"limit": 4}).json()
    assert len(first["data"]) == 4 and "next" in first["paging"]
    second = graph.get(
        f"/{WABA_ID}/message_templates", params={"limit": 4, "after": first["paging"]["cursors"]["after"]}
    ).json()
    assert len(second["data"]) == 2 and "next" not in second["paging"]
    names = {t["name"] for t in first["data"] + second["data"]}
    assert names == {"order_update"} | {f"bulk_{i}" for i in range(5)}
    marketing = graph.get(f"/{WABA_ID}/message_templates", params={"category": "MARKETING"}).json()["data"]
    assert len(marketing) == 5


def test_delete_by_name(graph):
    assert graph.delete(f"/{WABA_ID}/message_templates", params={"name": "order_update"}).json() == {
        "success": True
    }
    assert graph.get(f"/{WABA_ID}/message_templates", params={"name": "order_update"}).json()["data"] == []
    assert_meta_error(
        graph.delete(f"/{WABA_ID}/message_templates", params={"name": "order_update"}), 400, 100
    )
