"""The tenant admin pages of the automations: listed on the tenant's own admin, saved through the services."""

from __future__ import annotations

import json

import pytest

from automations.models import WorkflowTemplate
from automations.seeds import builtins_install
from tests.automations.test_templates import BUTTONS
from tests.conftest import ApiClient
from tests.factories import TenantUserFactory

PAGES = ["workflowtemplate", "workflow", "conversationstate", "automatedreply", "humanhandoff", "catalogueitem",
         "order", "supportticket"]


@pytest.fixture
def admin_a(tenant_a, in_tenant) -> ApiClient:
    with in_tenant(tenant_a):
        TenantUserFactory(username="barista")
        builtins_install()
    client = ApiClient("alpha.localhost")
    client.post("/admin/login/?next=/admin/", {"username": "barista", "password": "correct horse battery staple"})
    return client


@pytest.mark.parametrize("page", PAGES)
def test_each_page_lists(admin_a, page):
    assert admin_a.get(f"/admin/menus/{page}/").status_code == 200


def test_saving_a_template_in_the_admin_validates_and_versions_it(admin_a, tenant_a, in_tenant):
    form = {"template_name": "hello", "description": "", "type": "button", "trigger_keywords": '["hi"]',
            "match_mode": "contains", "priority": "0", "structure": json.dumps(BUTTONS), "is_active": "on",
            "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0"}
    four = {**BUTTONS, "action": {"buttons": BUTTONS["action"]["buttons"] * 2}}

    refused = admin_a.post("/admin/menus/workflowtemplate/add/", {**form, "structure": json.dumps(four)})
    assert refused.status_code == 200
    assert b"at most 3 reply buttons allowed" in refused.content

    saved = admin_a.post("/admin/menus/workflowtemplate/add/", form)
    assert saved.status_code == 302
    with in_tenant(tenant_a):
        template = WorkflowTemplate.objects.get(template_name="hello")
        assert [(v.version, v.changed_by) for v in template.versions.all()] == [(1, "admin:barista")]

    changed = admin_a.post(f"/admin/menus/workflowtemplate/{template.pk}/change/", {**form, "priority": "5"})
    assert changed.status_code == 302
    with in_tenant(tenant_a):
        template.refresh_from_db()
        assert (template.priority, template.version) == (5, 2)


def test_change_pages_open(admin_a, tenant_a, in_tenant):
    from automations.models import CatalogueItem, Workflow

    with in_tenant(tenant_a):
        workflow, item = Workflow.objects.get(name="new_order"), CatalogueItem.objects.get(name="Coffee")
        template = WorkflowTemplate.objects.get(template_name="main_menu")
    for url in (f"/admin/menus/workflow/{workflow.pk}/change/", f"/admin/menus/catalogueitem/{item.pk}/change/",
                f"/admin/menus/workflowtemplate/{template.pk}/change/"):
        assert admin_a.get(url).status_code == 200, url


def test_deleting_a_template_a_workflow_sends_is_refused_on_the_page(admin_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        template = WorkflowTemplate.objects.get(template_name="order_confirm")

    response = admin_a.post(f"/admin/menus/workflowtemplate/{template.pk}/delete/", {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert b"the workflows new_order send it" in response.content
    with in_tenant(tenant_a):
        assert WorkflowTemplate.objects.filter(pk=template.pk).exists()
