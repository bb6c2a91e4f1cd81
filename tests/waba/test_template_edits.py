"""Editing templates as Meta permits, copying to another language, adopting starter templates."""

from __future__ import annotations

import copy
from datetime import timedelta

from django.utils import timezone

from tests.waba.conftest import WABA_ID
from tests.waba.factories import TemplateFactory
from tests.waba.test_templates import ORDER_CONFIRMATION
from waba.models import MessageTemplate, TemplateEdit

NEW_BODY = {
    "type": "BODY",
    "text": "Hello {{1}}, order {{2}} is confirmed.",
    "example": {"body_text": [["Ana", "A-1"]]},
}


def _approved(api_a, live_account) -> dict:
    created = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", ORDER_CONFIRMATION).json()
    assert created["status"] == "PENDING"
    api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates/sync")
    template = api_a.get(f"/api/v1/templates/{created['id']}").json()
    assert template["status"] == "APPROVED"
    return template


def test_an_approved_template_is_edited_on_meta_and_goes_back_to_review(
    live_account, sim, api_a, tenant_a, in_tenant
):
    template = _approved(api_a, live_account)
    components = [NEW_BODY]

    response = api_a.patch_json(f"/api/v1/templates/{template['id']}", {"components": components})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "PENDING" and response.json()["components"] == components
    edit = sim.requests(method="POST", path_contains=template["meta_template_id"])[-1]
    assert edit["object_id"] == template["meta_template_id"] and edit["edge"] is None
    assert edit["body"] == {"components": components}
    with in_tenant(tenant_a):
        assert TemplateEdit.objects.get().status_before == "APPROVED"

    # Meta approves again; a second edit within 24 hours is refused before Meta is asked.
    api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates/sync")
    before = len(sim.requests(method="POST", path_contains=template["meta_template_id"]))
    again = api_a.patch_json(f"/api/v1/templates/{template['id']}", {"components": components})
    assert again.status_code == 409 and again.json()["error"]["code"] == "template_not_editable"
    assert "24 hours" in again.json()["error"]["message"]
    assert len(sim.requests(method="POST", path_contains=template["meta_template_id"])) == before


def test_ten_edits_per_thirty_days(live_account, sim, api_a, tenant_a, in_tenant):
    template = _approved(api_a, live_account)
    with in_tenant(tenant_a):
        stored = MessageTemplate.objects.get(pk=template["id"])
        for days in range(2, 12):
            edit = TemplateEdit.objects.create(template=stored, status_before="APPROVED")
            TemplateEdit.objects.filter(pk=edit.pk).update(edited_at=timezone.now() - timedelta(days=days))
    response = api_a.patch_json(f"/api/v1/templates/{template['id']}", {"components": [NEW_BODY]})
    assert response.status_code == 409 and "30 days" in response.json()["error"]["message"]


def test_category_of_an_approved_template_cannot_change(live_account, sim, api_a):
    template = _approved(api_a, live_account)
    response = api_a.patch_json(
        f"/api/v1/templates/{template['id']}", {"components": [NEW_BODY], "category": "MARKETING"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "category"


def test_edits_follow_the_rules_and_pending_templates_wait(live_account, sim, api_a, tenant_a, in_tenant):
    sim.configure(template_review_delay_s=60)
    created = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", ORDER_CONFIRMATION).json()
    pending = api_a.patch_json(f"/api/v1/templates/{created['id']}", {"components": [NEW_BODY]})
    assert pending.status_code == 409 and "PENDING" in pending.json()["error"]["message"]

    with in_tenant(tenant_a):
        rejected = TemplateFactory(
            account=live_account, name="rejected_one", status="REJECTED", meta_template_id="999"
        )
    bad = api_a.patch_json(
        f"/api/v1/templates/{rejected.pk}", {"components": [{"type": "BODY", "text": "Hi {{2}} x"}]}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "components[0].text"
    assert sim.requests(path_contains="999") == []


def test_a_draft_is_edited_here_only(live_account, sim, api_a):
    draft = api_a.post_json(
        f"/api/v1/accounts/{live_account.pk}/templates?submit=false", ORDER_CONFIRMATION
    ).json()
    response = api_a.patch_json(
        f"/api/v1/templates/{draft['id']}", {"components": [NEW_BODY], "category": "marketing"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "DRAFT" and response.json()["category"] == "MARKETING"
    assert sim.requests(method="POST", path_contains="message_templates") == []


def test_copy_to_another_language_makes_a_draft(live_account, sim, api_a):
    template = _approved(api_a, live_account)
    copied = api_a.post_json(f"/api/v1/templates/{template['id']}/copy", {"language": "de"})
    assert copied.status_code == 201
    assert copied.json()["status"] == "DRAFT" and copied.json()["language"] == "de"
    assert copied.json()["name"] == template["name"] and copied.json()["components"] == template["components"]
    assert api_a.post_json(f"/api/v1/templates/{template['id']}/copy", {"language": "de"}).status_code == 409
    unknown = api_a.post_json(f"/api/v1/templates/{template['id']}/copy", {"language": "klingon"})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "language"


def test_every_starter_is_adoptable_and_meta_accepts_it(live_account, sim, api_a):
    starters = api_a.get("/api/v1/template-starters").json()
    assert 5 <= len(starters) <= 8
    assert any(
        b["type"] == "COPY_CODE" for s in starters for c in s["components"] for b in c.get("buttons", [])
    )
    for starter in starters:
        adopted = api_a.post_json(
            f"/api/v1/accounts/{live_account.pk}/template-starters",
            {"key": starter["key"], "language": "en_US"},
        )
        assert adopted.status_code == 201, adopted.content
        assert adopted.json()["status"] == "DRAFT"
        submitted = api_a.post_json(f"/api/v1/templates/{adopted.json()['id']}/submit")
        assert submitted.status_code == 200, submitted.content
    api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates/sync")
    statuses = {
        t["name"]: t["status"]
        for t in api_a.get(f"/api/v1/templates?account_id={live_account.pk}").json()["items"]
    }
    assert set(statuses.values()) == {"APPROVED"}
    created = sim.requests(method="POST", path_contains="message_templates")
    assert {r["object_id"] for r in created} == {WABA_ID}


def test_another_tenants_template_is_not_found(live_account, sim, api_a, api_b):
    template = _approved(api_a, live_account)
    components = copy.deepcopy([NEW_BODY])
    assert (
        api_b.patch_json(f"/api/v1/templates/{template['id']}", {"components": components}).status_code == 404
    )
    assert api_b.post_json(f"/api/v1/templates/{template['id']}/copy", {"language": "de"}).status_code == 404
    assert (
        api_b.post_json(
            f"/api/v1/accounts/{live_account.pk}/template-starters", {"key": "welcome"}
        ).status_code
        == 404
    )
