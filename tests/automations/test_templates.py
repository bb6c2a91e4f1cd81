"""Workflow templates: the builder's rules on save, a version per change, placeholders, references."""

from __future__ import annotations

import pytest

from automations.errors import InUse, NameTaken, WorkflowTemplateInvalid
from automations.models import WorkflowTemplate
from automations.services import (
    workflow_template_create,
    workflow_template_delete,
    workflow_template_update,
)
from automations.services.templates import placeholders_of, workflow_template_render

BUTTONS = {
    "type": "button",
    "body": {"text": "Hello {name}! What would you like?"},
    "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "Option A"}},
                           {"type": "reply", "reply": {"id": "b", "title": "Option B"}}]},
}


def _with_buttons(count: int, title: str = "Option") -> dict:
    return {**BUTTONS, "action": {"buttons": [{"type": "reply", "reply": {"id": f"id{i}", "title": title}}
                                              for i in range(count)]}}


def test_structures_are_checked_with_the_builder_rules(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        with pytest.raises(WorkflowTemplateInvalid) as fourth:
            workflow_template_create(template_name="too_many", type="button", structure=_with_buttons(4))
        with pytest.raises(WorkflowTemplateInvalid) as long_title:
            workflow_template_create(template_name="long", type="button", structure=_with_buttons(1, "x" * 21))
        with pytest.raises(WorkflowTemplateInvalid) as wrong_type:
            workflow_template_create(template_name="mismatch", type="list", structure=BUTTONS)
        with pytest.raises(WorkflowTemplateInvalid) as bad_regex:
            workflow_template_create(template_name="rx", type="button", structure=BUTTONS,
                                     trigger_keywords=["(unclosed"], match_mode="regex")
        assert not WorkflowTemplate.objects.exists()

    assert {"field": "structure.action.buttons[3]", "kind": "too_many", "limit": 3, "actual": 4}.items() <= \
        fourth.value.details[0].items()
    assert long_title.value.details[0]["field"] == "structure.action.buttons[0].reply.title"
    assert long_title.value.details[0]["limit"] == 20
    assert wrong_type.value.details[0]["field"] == "structure.type"
    assert bad_regex.value.details[0]["field"] == "trigger_keywords[0]"
    assert fourth.value.code == "invalid_workflow_template" and fourth.value.status == 422


def test_every_change_writes_a_version_and_no_change_writes_none(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        template = workflow_template_create(template_name="hello", type="button", structure=BUTTONS,
                                            trigger_keywords=["hi"], changed_by="tests")
        template = workflow_template_update(template=template, trigger_keywords=["hi", "hello"], changed_by="ed")
        template = workflow_template_update(template=template, trigger_keywords=["hi", "hello"])
        assert template.version == 2
        versions = list(template.versions.order_by("version").values_list("version", "changed_by", "snapshot"))
        assert [(v, who) for v, who, _ in versions] == [(1, "tests"), (2, "ed")]
        assert versions[0][2]["trigger_keywords"] == ["hi"]
        assert versions[1][2]["trigger_keywords"] == ["hi", "hello"]

        with pytest.raises(WorkflowTemplateInvalid):
            workflow_template_update(template=template, structure=_with_buttons(4))
        template.refresh_from_db()
        assert (template.version, template.structure) == (2, BUTTONS)

        with pytest.raises(NameTaken):
            workflow_template_create(template_name="hello", type="button", structure=BUTTONS)


def test_placeholders_fill_texts_not_ids(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        template = workflow_template_create(template_name="hello", type="button", structure=BUTTONS)
        rendered = workflow_template_render(template=template, context={"name": "Ada", "a": "nope"})
    assert rendered["body"]["text"] == "Hello Ada! What would you like?"
    assert rendered["action"]["buttons"][0]["reply"]["id"] == "a"
    assert placeholders_of(BUTTONS) == ["name"]
    assert workflow_template_render(template=template, context={})["body"]["text"] == BUTTONS["body"]["text"]


def test_a_template_a_workflow_sends_cannot_be_deleted_or_renamed(tenant_a, in_tenant, builtins_a):
    with in_tenant(tenant_a):
        confirm = WorkflowTemplate.objects.get(template_name="order_confirm")
        with pytest.raises(InUse) as deleting:
            workflow_template_delete(template=confirm)
        with pytest.raises(InUse):
            workflow_template_update(template=confirm, template_name="order_confirm_v2")
        assert deleting.value.details == {"workflows": ["new_order"]}
        assert WorkflowTemplate.objects.filter(template_name="order_confirm").exists()
