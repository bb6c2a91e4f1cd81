"""The knowledge-base console page: list, add, edit, delete, the switch, the try box and the counts;
another workspace's entry is a 404; roles of the templates area only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from knowledge.models import FaqEntry, KnowledgeAnswer
from knowledge.selectors import knowledge_enabled
from team.models import Membership
from team.roles import Role
from tests.conftest import host_of
from tests.console.test_auth import _csrf
from tests.knowledge.conftest import FAQ


def _post(client, page: str, path: str, data: dict | None = None):
    return client.post(path, {**(data or {}), "csrfmiddlewaretoken": _csrf(client, page)})


def test_the_page_lists_entries_the_switch_and_the_counts(faq_a, console_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        KnowledgeAnswer.objects.create(question="q", outcome="answered", source="search")
        KnowledgeAnswer.objects.create(question="q", outcome="handed_off", source="none")
    page = console_a.get("/app/knowledge/")
    html = page.content.decode()
    assert page.status_code == 200
    for entry in FAQ:
        assert entry["question"].replace("'", "&#x27;") in html
    assert "Turn off" in html and "Knowledge base</a>" in html  # on, and in the navigation
    assert 'Answered, last 30 days</div>\n    <div class="stat">1</div>' in html
    assert 'Handed to a person, last 30 days</div>\n    <div class="stat">1</div>' in html


def test_trying_a_question_shows_the_answer_or_the_person(faq_a, console_a):
    answered = console_a.get("/app/knowledge/", {"try": "can I pay by card"}).content.decode()
    assert "Answered</span> by" in answered and FAQ[2]["answer"] in answered
    refused = console_a.get("/app/knowledge/", {"try": "purple elephant banana"}).content.decode()
    assert "Handed to a person</span> best score" in refused
    assert console_a.get("/app/knowledge/", {"try": "open\x00ing"}).status_code == 200


def test_an_entry_is_added_edited_and_deleted(console_a, tenant_a, in_tenant):
    added = _post(
        console_a,
        "/app/knowledge/new/",
        "/app/knowledge/new/",
        {
            "question": "Do you have wifi?",
            "variants": "wifi password\ninternet",
            "answer": "Yes, ask at the counter.",
            "language": "en",
            "tags": "wifi, Shop",
            "is_active": "on",
        },
    )
    assert added.status_code == 302 and added["Location"] == "/app/knowledge/"
    with in_tenant(tenant_a):
        entry = FaqEntry.objects.get()
    assert (entry.variants, entry.tags, entry.is_active) == (
        ["wifi password", "internet"],
        ["wifi", "shop"],
        True,
    )

    edit = f"/app/knowledge/{entry.pk}/edit/"
    assert "wifi password\ninternet</textarea>" in console_a.get(edit).content.decode()
    saved = _post(
        console_a,
        edit,
        edit,
        {
            "question": "Do you have wifi?",
            "answer": "Yes: the code is on the receipt.",
            "language": "en",
            "variants": "",
            "tags": "",
        },
    )
    assert saved.status_code == 302
    with in_tenant(tenant_a):
        entry.refresh_from_db()
    assert (entry.answer, entry.variants, entry.is_active) == ("Yes: the code is on the receipt.", [], False)

    deleted = _post(console_a, "/app/knowledge/", f"/app/knowledge/{entry.pk}/delete/")
    assert deleted.status_code == 302
    with in_tenant(tenant_a):
        assert not FaqEntry.objects.exists()


def test_a_bad_entry_is_shown_with_its_problem(console_a, tenant_a, in_tenant):
    refused = _post(
        console_a,
        "/app/knowledge/new/",
        "/app/knowledge/new/",
        {"question": "Wifi?", "answer": "Yes.", "language": "wifi-language"},
    )
    assert refused.status_code == 200
    assert "&#x27;wifi-language&#x27; is not a language code" in refused.content.decode()
    with in_tenant(tenant_a):
        assert not FaqEntry.objects.exists()


def test_the_switch_turns_answering_on_and_off(console_a, tenant_a, in_tenant):
    assert _post(console_a, "/app/knowledge/", "/app/knowledge/enabled/", {"enabled": "1"}).status_code == 302
    with in_tenant(tenant_a):
        assert knowledge_enabled()
    _post(console_a, "/app/knowledge/", "/app/knowledge/enabled/", {"enabled": "0"})
    with in_tenant(tenant_a):
        assert not knowledge_enabled()


def test_another_workspaces_entry_is_a_404(faq_a, console_b, tenant_b, in_tenant):
    entry_id = faq_a[0].pk
    assert console_b.get(f"/app/knowledge/{entry_id}/edit/").status_code == 404
    deleted = _post(console_b, "/app/knowledge/", f"/app/knowledge/{entry_id}/delete/")
    assert deleted.status_code == 404
    assert FAQ[0]["question"] not in console_b.get("/app/knowledge/").content.decode()


@pytest.mark.parametrize(
    ("role", "view", "change"),
    [
        (Role.DEVELOPER, 200, 302),
        (Role.VIEWER, 200, 403),
        (Role.AGENT, 403, 403),
    ],
)
def test_roles_of_the_templates_area_open_the_page(faq_a, tenant_a, in_tenant, role, view, change):
    with in_tenant(tenant_a):
        user = User.objects.create_user(f"someone-{role}", password="correct horse battery staple")
        Membership.objects.filter(user=user).update(role=role)
        client = Client(HTTP_HOST=host_of(tenant_a))  # no CSRF check: the role is what is tested
        client.force_login(user)
    assert client.get("/app/knowledge/").status_code == view
    assert client.get("/app/knowledge/", {"try": "opening hours"}).status_code == view
    assert client.post("/app/knowledge/enabled/", {"enabled": "1"}).status_code == change
