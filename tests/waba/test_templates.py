"""Templates: validation, create and submit to Meta, delete, sync with paging, filters, counts."""

from __future__ import annotations

import pytest

from tests.waba.conftest import WABA_ID
from tests.waba.factories import TemplateFactory
from waba.models import MessageTemplate
from waba.services.templates import template_components_check, template_parameter_counts

ORDER_CONFIRMATION = {
    "name": "order_confirmation",
    "language": "en_US",
    "category": "utility",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is confirmed.", "example": {"body_text": [["Ana", "A-1"]]}},
        {"type": "FOOTER", "text": "Alpha Coffee"},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://alpha.example/t/{{1}}", "example": ["https://alpha.example/t/A-1"]}]},
    ],
}


def test_create_submits_to_meta_and_stores_pending_with_metas_id(live_account, sim, api_a, tenant_a, in_tenant):
    sim.configure(template_review_delay_s=60)

    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", ORDER_CONFIRMATION)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "PENDING" and body["meta_template_id"]
    assert body["category"] == "UTILITY"
    assert body["variable_count"] == 2
    assert body["parameter_counts"] == {"header": 1, "body": 2, "buttons": {"0": 1}}
    sent = sim.requests(path_contains="message_templates", method="POST")[-1]
    assert sent["object_id"] == WABA_ID
    assert sent["body"] == {
        "name": "order_confirmation",
        "language": "en_US",
        "category": "UTILITY",
        "components": ORDER_CONFIRMATION["components"],
    }
    meta_ids = [t["id"] for t in sim.state.snapshot()["templates"]]
    assert body["meta_template_id"] in meta_ids


def test_template_rules_give_per_field_errors_and_meta_is_not_asked(live_account, sim, api_a, tenant_a, in_tenant):
    bad = {
        "name": "Order Confirmation",
        "language": "english",
        "category": "PROMO",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, order {{3}}"},
            {"type": "FOOTER", "text": "x" * 61},
            {"type": "BODY", "text": "again"},
        ],
    }
    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", bad)
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["error"]["details"]} == {"name", "language", "category"}

    bad.update(name="order", language="en_US", category="UTILITY")
    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", bad)
    fields = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
    assert fields.keys() == {"components[0].text", "components[1].text", "components[2].type"}
    assert sim.requests(path_contains="message_templates") == []
    with in_tenant(tenant_a):
        assert not MessageTemplate.objects.exists()


def test_meta_refusing_a_template_stores_nothing(live_account, sim, api_a, tenant_a, in_tenant):
    sim.seed({"templates": [{"waba_id": WABA_ID, "name": "order_confirmation", "language": "en_US"}]})

    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", ORDER_CONFIRMATION)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "template_exists"
    with in_tenant(tenant_a):
        assert not MessageTemplate.objects.exists()


def test_a_draft_is_stored_locally_then_submitted(live_account, sim, api_a):
    draft = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates?submit=false", ORDER_CONFIRMATION)
    assert draft.status_code == 201 and draft.json()["status"] == "DRAFT"
    assert sim.requests(path_contains="message_templates") == []
    again = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", ORDER_CONFIRMATION)
    assert again.status_code == 409

    submitted = api_a.post_json(f"/api/v1/templates/{draft.json()['id']}/submit")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "PENDING" and submitted.json()["meta_template_id"]
    twice = api_a.post_json(f"/api/v1/templates/{draft.json()['id']}/submit")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "template_not_submittable"


def test_templates_need_the_accounts_credentials(api_a):
    account_id = api_a.post_json("/api/v1/accounts", {}).json()["id"]
    response = api_a.post_json(f"/api/v1/accounts/{account_id}/templates", ORDER_CONFIRMATION)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "account_not_ready"


def test_sync_follows_every_page_upserts_and_marks_templates_meta_dropped(live_account, sim, api_a, tenant_a, in_tenant):
    sim.seed(
        {
            "templates": [
                {"waba_id": WABA_ID, "name": f"promo_{n}", "language": "en_US", "category": "MARKETING", "body": f"Deal {n} for {{{{1}}}}"}
                for n in range(5)
            ]
            + [{"waba_id": WABA_ID, "name": "promo_0", "language": "de_DE", "status": "REJECTED", "body": "Hallo"}]
        }
    )
    with in_tenant(tenant_a):
        TemplateFactory(account=live_account, name="promo_1", language="en_US", status="PENDING", meta_template_id="")
        TemplateFactory(account=live_account, name="gone", meta_template_id="123")
        TemplateFactory(account=live_account, name="draft_only", status="DRAFT", meta_template_id="")

    from waba.services.templates import templates_sync

    with in_tenant(tenant_a):
        result = templates_sync(account=live_account, page_size=2)

    assert result == {"total": 6, "created": 5, "updated": 1, "unchanged": 0, "deleted": 1}
    pages = sim.requests(path_contains="message_templates", method="GET")
    assert len(pages) >= 3 and all(p["query"]["limit"] == "2" for p in pages)
    assert [bool(p["query"].get("after")) for p in pages][:3] == [False, True, True]
    with in_tenant(tenant_a):
        by_key = {(t.name, t.language): t for t in MessageTemplate.objects.all()}
    assert by_key[("promo_1", "en_US")].status == "APPROVED" and by_key[("promo_1", "en_US")].meta_template_id
    assert by_key[("promo_3", "en_US")].variable_count == 1 and by_key[("promo_3", "en_US")].category == "MARKETING"
    assert by_key[("promo_0", "de_DE")].status == "REJECTED"
    assert by_key[("gone", "en_US")].status == "DELETED"
    assert by_key[("draft_only", "en_US")].status == "DRAFT"

    api_result = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates/sync").json()
    assert api_result == {"total": 6, "created": 0, "updated": 0, "unchanged": 6, "deleted": 0}


def test_created_templates_become_approved_by_sync(live_account, sim, api_a):
    created = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", ORDER_CONFIRMATION).json()
    api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates/sync")
    assert api_a.get(f"/api/v1/templates/{created['id']}").json()["status"] == "APPROVED"


def test_delete_asks_meta_for_this_language_only(live_account, sim, api_a, tenant_a, in_tenant):
    created = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", ORDER_CONFIRMATION).json()

    response = api_a.delete(f"/api/v1/templates/{created['id']}")

    assert response.status_code == 204
    deleted = sim.requests(path_contains="message_templates", method="DELETE")[-1]
    assert deleted["query"] == {"name": "order_confirmation", "hsm_id": created["meta_template_id"]}
    assert sim.state.snapshot()["templates"] == []
    with in_tenant(tenant_a):
        assert not MessageTemplate.objects.exists()
    # Already gone at Meta: deleting here still works.
    with in_tenant(tenant_a):
        gone = TemplateFactory(account=live_account, meta_template_id="424242")
    assert api_a.delete(f"/api/v1/templates/{gone.pk}").status_code == 204


def test_list_filters(api_a, tenant_a, in_tenant):
    from tests.waba.factories import AccountFactory

    with in_tenant(tenant_a):
        account = AccountFactory()
        other = AccountFactory(waba_id="2")
        TemplateFactory(account=account, name="welcome_offer", category="MARKETING", status="APPROVED")
        TemplateFactory(account=account, name="order_update", category="UTILITY", status="PENDING", language="de_DE")
        TemplateFactory(account=other, name="order_update", category="UTILITY", status="APPROVED")

    def names(query: str) -> list[tuple[str, int]]:
        return [(t["name"], t["account_id"]) for t in api_a.get(f"/api/v1/templates{query}").json()["items"]]

    assert len(names("")) == 3
    assert names("?status=approved&category=marketing") == [("welcome_offer", account.pk)]
    assert names(f"?account_id={other.pk}") == [("order_update", other.pk)]
    assert names("?language=de_DE") == [("order_update", account.pk)]
    assert [n for n, _ in names("?name=order")] == ["order_update", "order_update"]


@pytest.mark.parametrize(
    ("components", "counts"),
    [
        ([{"type": "BODY", "text": "Hello"}], {"body": 0}),
        ([{"type": "BODY", "text": "{{1}} and {{2}} and {{1}}"}], {"body": 2}),
        ([{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Hi {{1}}"}], {"header": 1, "body": 1}),
        (
            [{"type": "BODY", "text": "Code"}, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "ok"}, {"type": "COPY_CODE"}]}],
            {"body": 0, "buttons": {"1": 1}},
        ),
        ([{"type": "BODY", "text": "Hi {{first_name}}"}], {"body": 1}),
    ],
)
def test_parameter_counts(components, counts):
    assert template_parameter_counts(components) == counts


def test_component_rules():
    assert template_components_check(components=[{"type": "BODY", "text": "Hi {{2}}"}], category="UTILITY")
    assert template_components_check(components=[{"type": "HEADER", "text": "{{1}} {{2}}"}, {"type": "BODY", "text": "x"}], category="UTILITY")
    assert template_components_check(components=[{"type": "FOOTER", "text": "f"}], category="UTILITY")[0]["message"] == "A BODY component is required."
    authentication = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ]
    assert template_components_check(components=authentication, category="AUTHENTICATION") == []


def test_a_dead_token_while_deleting_keeps_the_template_and_marks_the_account_unhealthy(live_account, sim, api_a, tenant_a, in_tenant):
    created = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", ORDER_CONFIRMATION).json()
    sim.seed({"tokens": [{"token": live_account.access_token.reveal(), "valid": False}]})

    response = api_a.delete(f"/api/v1/templates/{created['id']}")

    assert response.status_code == 424 and response.json()["error"]["code"] == "meta_token_invalid"
    assert api_a.get(f"/api/v1/templates/{created['id']}").status_code == 200
    assert api_a.get(f"/api/v1/accounts/{live_account.pk}").json()["status"] == "unhealthy"
