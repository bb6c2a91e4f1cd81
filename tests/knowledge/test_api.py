"""The knowledge-base API: entries, the switch, the dry run, answers per day; another workspace's
entries are not found, a key without `manage` only reads, bad input says what is wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from knowledge.models import FaqEntry, KnowledgeAnswer
from tenants.services import api_key_create
from tests.conftest import ApiClient, host_of
from tests.knowledge.conftest import FAQ

ENTRY = {
    "question": "Do you have vegan milk?",
    "variants": ["oat milk", " soy milk ", "oat milk"],
    "answer": "Yes: oat and soy.",
    "tags": ["Menu"],
}


def test_an_entry_is_created_read_listed_changed_and_deleted(api_a, tenant_a, in_tenant):
    created = api_a.post_json("/api/v1/knowledge", ENTRY)
    assert created.status_code == 201, created.content
    body = created.json()
    assert {
        key: body[key] for key in ("question", "variants", "answer", "language", "tags", "is_active")
    } == {
        "question": "Do you have vegan milk?",
        "variants": ["oat milk", "soy milk"],
        "answer": "Yes: oat and soy.",
        "language": "en",
        "tags": ["menu"],
        "is_active": True,
    }
    entry_id = body["id"]

    assert api_a.get(f"/api/v1/knowledge/{entry_id}").json()["question"] == "Do you have vegan milk?"
    listed = api_a.get("/api/v1/knowledge?tag=menu").json()
    assert [row["id"] for row in listed["items"]] == [entry_id] and listed["count"] == 1
    assert api_a.get("/api/v1/knowledge?search=VEGAN").json()["count"] == 1
    assert api_a.get("/api/v1/knowledge?search=almond").json()["items"] == []

    changed = api_a.patch_json(
        f"/api/v1/knowledge/{entry_id}", {"answer": "Oat, soy and almond.", "is_active": False}
    )
    assert changed.status_code == 200
    assert (changed.json()["answer"], changed.json()["is_active"], changed.json()["variants"]) == (
        "Oat, soy and almond.",
        False,
        ["oat milk", "soy milk"],
    )

    assert api_a.delete(f"/api/v1/knowledge/{entry_id}").status_code == 204
    with in_tenant(tenant_a):
        assert not FaqEntry.objects.exists()


def test_bad_input_is_refused_with_a_code_and_the_problems(api_a):
    refused = api_a.post_json("/api/v1/knowledge", {**ENTRY, "question": "  ", "language": "klingon"})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_faq_entry"
    assert error["details"]["problems"] == [
        "The question is empty.",
        "'klingon' is not a language code such as en, es or pt_BR.",
    ]
    too_long = api_a.post_json("/api/v1/knowledge", {**ENTRY, "answer": "x" * 4097})
    assert too_long.status_code == 422
    assert api_a.post_json("/api/v1/knowledge/try", {"text": ""}).status_code == 422


def test_the_dry_run_says_what_would_happen(faq_a, api_a):
    answered = api_a.post_json("/api/v1/knowledge/try", {"text": "can I pay by card?"})
    assert answered.status_code == 200
    body = answered.json()
    assert (body["answered"], body["entry_id"], body["answer"], body["threshold"]) == (
        True,
        faq_a[2].pk,
        FAQ[2]["answer"],
        0.4,
    )
    assert body["score"] >= 0.4 and body["candidates"][0] == {
        "entry_id": faq_a[2].pk,
        "question": "How can I pay?",
        "score": body["score"],
    }
    assert len(body["candidates"]) == 3

    refused = api_a.post_json("/api/v1/knowledge/try", {"text": "purple elephant banana"}).json()
    assert (refused["answered"], refused["entry_id"], refused["answer"]) == (False, None, None)
    assert refused["score"] < 0.4


def test_the_switch_is_off_by_default_and_turns_on(api_a):
    assert api_a.get("/api/v1/knowledge/settings").json() == {
        "enabled": False,
        "threshold": 0.4,
        "provider_configured": False,
    }
    assert api_a.put_json("/api/v1/knowledge/settings", {"enabled": True}).json()["enabled"] is True
    assert api_a.get("/api/v1/knowledge/settings").json()["enabled"] is True


def test_answers_per_day_count_both_outcomes(api_a, tenant_a, in_tenant):
    now = timezone.now()
    with in_tenant(tenant_a):
        for outcome, days_ago in (
            ("answered", 0),
            ("answered", 0),
            ("handed_off", 0),
            ("answered", 2),
            ("answered", 9),
        ):
            KnowledgeAnswer.objects.create(
                question="q", outcome=outcome, source="search", created_at=now - timedelta(days=days_ago)
            )
    days = api_a.get("/api/v1/knowledge/answers-per-day?days=3").json()["items"]
    assert days == [
        {"day": str((now - timedelta(days=2)).date()), "answered": 1, "handed_off": 0},
        {"day": str((now - timedelta(days=1)).date()), "answered": 0, "handed_off": 0},
        {"day": str(now.date()), "answered": 2, "handed_off": 1},
    ]
    assert api_a.get("/api/v1/knowledge/answers-per-day?days=0").status_code == 422


def test_another_workspaces_entry_is_not_found(faq_a, api_b):
    entry_id = faq_a[0].pk
    for response in (
        api_b.get(f"/api/v1/knowledge/{entry_id}"),
        api_b.patch_json(f"/api/v1/knowledge/{entry_id}", {"answer": "hijacked"}),
        api_b.delete(f"/api/v1/knowledge/{entry_id}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "faq_entry_not_found"
    assert api_b.get("/api/v1/knowledge").json()["items"] == []
    assert api_b.post_json("/api/v1/knowledge/try", {"text": "opening hours"}).json()["candidates"] == []


def test_another_workspaces_key_is_refused_here(faq_a, tenant_a, api_b):
    foreign = ApiClient(host_of(tenant_a), api_b.key)
    assert foreign.get("/api/v1/knowledge").status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/knowledge", ENTRY),
        ("put", "/api/v1/knowledge/settings", {"enabled": True}),
        ("post", "/api/v1/knowledge/try", {"text": "opening hours"}),
    ],
)
def test_a_read_only_key_reads_and_writes_nothing(faq_a, tenant_a, method, path, body):
    reader = ApiClient(
        host_of(tenant_a), api_key_create(tenant=tenant_a, name="r", created_by="t", scopes=["read"]).key
    )
    assert reader.get("/api/v1/knowledge").status_code == 200
    refused = getattr(reader, f"{method}_json")(path, body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
