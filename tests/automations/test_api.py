"""The automation API: CRUD with versions and previews, built-ins, states, handoffs, catalogue, orders,
tickets; errors in the one shape; every id of another tenant answers 404 and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from automations.models import (
    CatalogueItem,
    ConversationState,
    HumanHandoff,
    Order,
    SupportTicket,
    Workflow,
    WorkflowTemplate,
)
from automations.seeds import EARLIER_TEMPLATE_STRUCTURES, EARLIER_WORKFLOW_DEFINITIONS, builtins_install
from automations.services import (
    conversation_state_start,
    handoff_open,
    order_create,
    support_ticket_create,
)
from tests.automations.test_templates import BUTTONS
from tests.messaging.factories import ContactFactory, PhoneNumberFactory

BASE = "/api/v1"


def _template_body(**overrides) -> dict:
    return {"template_name": "welcome", "type": "button", "structure": BUTTONS, "trigger_keywords": ["hi"],
            **overrides}


def test_workflow_template_crud_with_versions(api_a, tenant_a, in_tenant):
    created = api_a.post_json(f"{BASE}/workflow-templates", _template_body())
    assert created.status_code == 201, created.json()
    template = created.json()
    assert (template["version"], template["match_mode"], template["workflow"]) == (1, "contains", None)

    listed = api_a.get(f"{BASE}/workflow-templates").json()
    assert [item["template_name"] for item in listed["items"]] == ["welcome"]

    changed = api_a.patch_json(f"{BASE}/workflow-templates/{template['id']}",
                               {"trigger_keywords": ["hi", "hola"], "priority": 3})
    assert changed.status_code == 200
    assert (changed.json()["version"], changed.json()["priority"]) == (2, 3)

    versions = api_a.get(f"{BASE}/workflow-templates/{template['id']}/versions").json()["items"]
    assert [(v["version"], v["snapshot"]["trigger_keywords"]) for v in versions] == [(2, ["hi", "hola"]), (1, ["hi"])]
    assert versions[0]["changed_by"].startswith("api-key:wak_")

    assert api_a.delete_json(f"{BASE}/workflow-templates/{template['id']}").status_code == 204
    with in_tenant(tenant_a):
        assert not WorkflowTemplate.objects.exists()


def test_invalid_templates_are_refused_with_every_problem_and_nothing_saved(api_a, tenant_a, in_tenant):
    four = {**BUTTONS, "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": "x" * 21}}
                                              for i in range(4)]}}
    response = api_a.post_json(f"{BASE}/workflow-templates", _template_body(template_name="bad name", structure=four))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_workflow_template"
    fields = [problem["field"] for problem in error["details"]]
    assert "template_name" in fields and "structure.action.buttons[3]" in fields
    assert "structure.action.buttons[0].reply.title" in fields
    with in_tenant(tenant_a):
        assert not WorkflowTemplate.objects.exists()

    api_a.post_json(f"{BASE}/workflow-templates", _template_body())
    taken = api_a.post_json(f"{BASE}/workflow-templates", _template_body())
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "name_taken")

    unknown_workflow = api_a.post_json(f"{BASE}/workflow-templates", _template_body(template_name="x", workflow="nope"))
    assert (unknown_workflow.status_code, unknown_workflow.json()["error"]["code"]) == (404, "workflow_not_found")

    wrong_mode = api_a.post_json(f"{BASE}/workflow-templates", _template_body(template_name="y", match_mode="fuzzy"))
    assert (wrong_mode.status_code, wrong_mode.json()["error"]["code"]) == (422, "validation_error")


def test_a_menu_whose_type_is_a_list_is_refused_not_a_500(api_a, tenant_a, in_tenant):
    response = api_a.post_json(f"{BASE}/workflow-templates",
                               _template_body(structure={**BUTTONS, "type": ["button"]}))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_workflow_template"
    assert "structure.type" in [problem["field"] for problem in response.json()["error"]["details"]]
    with in_tenant(tenant_a):
        assert not WorkflowTemplate.objects.exists()


def test_preview_renders_the_interactive_payload(api_a):
    template = api_a.post_json(f"{BASE}/workflow-templates", _template_body()).json()

    preview = api_a.post_json(f"{BASE}/workflow-templates/{template['id']}/preview", {"context": {"name": "Ada"}})
    assert preview.status_code == 200
    assert preview.json()["interactive"]["body"]["text"] == "Hello Ada! What would you like?"
    assert preview.json()["placeholders"] == ["name"] and preview.json()["missing"] == []

    bare = api_a.post_json(f"{BASE}/workflow-templates/{template['id']}/preview").json()
    assert bare["missing"] == ["name"]

    too_long = api_a.post_json(f"{BASE}/workflow-templates/{template['id']}/preview", {"context": {"name": "x" * 1100}})
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "invalid_interactive_message"
    assert too_long.json()["error"]["details"][0]["field"] == "body.text"


def test_match_tells_which_menu_a_message_triggers(api_a):
    api_a.post_json(f"{BASE}/workflow-templates", _template_body())
    hit = api_a.post_json(f"{BASE}/workflow-templates/match", {"text": "Hi there!"}).json()
    miss = api_a.post_json(f"{BASE}/workflow-templates/match", {"text": "this"}).json()
    assert hit["matched"] and hit["template"]["template_name"] == "welcome"
    assert miss == {"matched": False, "template": None}


def test_install_builtins_is_idempotent(api_a, tenant_a, in_tenant):
    first = api_a.post_json(f"{BASE}/workflows/install-builtins")
    second = api_a.post_json(f"{BASE}/workflows/install-builtins")

    assert first.status_code == 201
    assert sorted(first.json()["created_workflows"]) == [
        "main_menu", "new_order", "order_tracking", "solar_cleaning", "solar_installation", "starlink_installation",
        "support", "tour_inquiry", "track_order_quick"]
    assert first.json()["created_catalogue_items"] == ["Coffee", "Tea", "Croissant"]
    assert second.status_code == 200
    assert second.json()["created_workflows"] == [] and len(second.json()["kept"]) == 23
    assert second.json()["upgraded"] == []
    with in_tenant(tenant_a):
        assert Workflow.objects.get(is_main_menu=True).name == "main_menu"
        assert WorkflowTemplate.objects.get(template_name="main_menu").workflow.name == "main_menu"
        assert CatalogueItem.objects.get(name="Coffee").price == 120


def test_install_builtins_gives_an_unedited_main_menu_the_new_keywords_and_keeps_edited_ones(
    api_a, tenant_a, in_tenant
):
    api_a.post_json(f"{BASE}/workflows/install-builtins")
    with in_tenant(tenant_a):
        menu = WorkflowTemplate.objects.get(template_name="main_menu")
        WorkflowTemplate.objects.filter(pk=menu.pk).update(trigger_keywords=["hi", "hello", "hey", "start"])

    upgraded = api_a.post_json(f"{BASE}/workflows/install-builtins")

    assert upgraded.status_code == 201 and upgraded.json()["upgraded"] == ["template:main_menu"]
    with in_tenant(tenant_a):
        menu = WorkflowTemplate.objects.get(template_name="main_menu")
        assert menu.trigger_keywords == ["hi", "hello", "hey", "start", "menu", "help"]
        assert menu.versions.first().snapshot["trigger_keywords"] == menu.trigger_keywords
        WorkflowTemplate.objects.filter(pk=menu.pk).update(trigger_keywords=["hola"])

    again = api_a.post_json(f"{BASE}/workflows/install-builtins")

    assert again.status_code == 200 and again.json()["upgraded"] == []
    with in_tenant(tenant_a):
        assert WorkflowTemplate.objects.get(template_name="main_menu").trigger_keywords == ["hola"]


def test_install_builtins_brings_an_unedited_earlier_order_workflow_up_to_the_cart_and_keeps_edited_ones(
    api_a, tenant_a, in_tenant
):
    api_a.post_json(f"{BASE}/workflows/install-builtins")
    with in_tenant(tenant_a):
        Workflow.objects.filter(name="new_order").update(definition=EARLIER_WORKFLOW_DEFINITIONS["new_order"][0])
        edited = {**EARLIER_WORKFLOW_DEFINITIONS["order_tracking"][0], "start": "answer"}
        Workflow.objects.filter(name="order_tracking").update(definition=edited)
        WorkflowTemplate.objects.filter(template_name="order_tracking_result").update(
            structure=EARLIER_TEMPLATE_STRUCTURES["order_tracking_result"][0])

    upgraded = api_a.post_json(f"{BASE}/workflows/install-builtins")

    assert upgraded.status_code == 201
    assert upgraded.json()["upgraded"] == ["template:order_tracking_result", "workflow:new_order"]
    with in_tenant(tenant_a):
        new_order = Workflow.objects.get(name="new_order")
        assert new_order.definition["steps"]["add_to_cart"]["action"] == "cart_add"
        assert new_order.versions.first().definition == new_order.definition
        assert Workflow.objects.get(name="order_tracking").definition == edited
        result = WorkflowTemplate.objects.get(template_name="order_tracking_result")
        assert result.structure["body"]["text"] == "Order {order_number}: {order_status}."
    assert api_a.post_json(f"{BASE}/workflows/install-builtins").json()["upgraded"] == []


def test_workflow_crud_validates_the_definition(api_a, tenant_a, in_tenant):
    definition = {"start": "ask", "steps": {
        "ask": {"send": {"text": "Your email?"},
                "input": {"type": "text", "validator": "email", "save_as": "email", "next": "done"}},
        "done": {"send": {"text": "Thanks {email}"}}}}
    created = api_a.post_json(f"{BASE}/workflows", {"name": "newsletter", "definition": definition})
    assert created.status_code == 201, created.json()
    workflow = created.json()

    broken = {"start": "ask", "steps": {"ask": {"send": {"template": "missing"}, "action": "fly",
                                                 "input": {"type": "text", "validator": "shoe_size", "next": "gone"}}}}
    refused = api_a.patch_json(f"{BASE}/workflows/{workflow['id']}", {"definition": broken})
    assert refused.status_code == 422
    problems = {problem["field"]: problem["message"] for problem in refused.json()["error"]["details"]}
    assert problems["definition.steps.ask.action"].startswith("unknown action 'fly'")
    assert problems["definition.steps.ask.input.validator"].startswith("unknown validator 'shoe_size'")
    assert problems["definition.steps.ask.input.next"] == "no step named 'gone'"
    assert problems["definition.steps.ask.send.template"] == "no workflow template named 'missing'"

    definition["steps"]["done"]["send"]["text"] = "Thank you, {email}!"
    changed = api_a.patch_json(f"{BASE}/workflows/{workflow['id']}", {"definition": definition})
    assert changed.json()["version"] == 2
    versions = api_a.get(f"{BASE}/workflows/{workflow['id']}/versions").json()["items"]
    assert [v["version"] for v in versions] == [2, 1]

    shape = api_a.post_json(f"{BASE}/workflows", {"name": "x", "definition": {"steps": {}}})
    assert shape.status_code == 422 and shape.json()["error"]["code"] == "invalid_workflow"

    assert api_a.delete_json(f"{BASE}/workflows/{workflow['id']}").status_code == 204


def test_a_workflow_another_starts_cannot_be_deleted(api_a, tenant_a, in_tenant):
    api_a.post_json(f"{BASE}/workflows/install-builtins")
    with in_tenant(tenant_a):
        new_order = Workflow.objects.get(name="new_order")
    response = api_a.delete_json(f"{BASE}/workflows/{new_order.pk}")
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "in_use", "details": {"workflows": ["main_menu"]},
                                         "message": "Workflow 'new_order' cannot be deleted: the workflows main_menu start it."}


@pytest.fixture
def alpha_rows(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        builtins_install()
        number, contact = PhoneNumberFactory(), ContactFactory()
        coffee = CatalogueItem.objects.get(name="Coffee")
        return {
            "number": number, "contact": contact,
            "state": conversation_state_start(contact=contact, phone_number=number,
                                              workflow=Workflow.objects.get(name="new_order"), step="ask_quantity"),
            "order": order_create(contact=contact, phone_number=number, lines=[(coffee, 2)]),
            "ticket": support_ticket_create(contact=contact, phone_number=number, issue_type="Payment",
                                            description="Charged twice"),
        }


def test_states_handoffs_orders_and_tickets(api_a, alpha_rows, tenant_a, in_tenant):
    state, order, ticket = alpha_rows["state"], alpha_rows["order"], alpha_rows["ticket"]

    active = api_a.get(f"{BASE}/conversation-states?active=true").json()["items"]
    assert [(s["id"], s["current_step"], s["workflow_name"]) for s in active] == [
        (state.pk, "ask_quantity", "new_order")]
    ended = api_a.post_json(f"{BASE}/conversation-states/{state.pk}/end").json()
    assert ended["status"] == "cancelled" and ended["ended_at"]

    opened = api_a.post_json(f"{BASE}/handoffs", {"contact_id": alpha_rows["contact"].pk,
                                                  "phone_number_id": alpha_rows["number"].phone_number_id,
                                                  "reason": "VIP"})
    assert opened.status_code == 201 and opened.json()["opened_by"] == "business"
    twice = api_a.post_json(f"{BASE}/handoffs", {"contact_id": alpha_rows["contact"].pk,
                                                 "phone_number_id": alpha_rows["number"].phone_number_id})
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "handoff_already_open")
    closed = api_a.post_json(f"{BASE}/handoffs/{opened.json()['id']}/close", {"closed_by": "Sam"})
    assert closed.json()["closed_by"] == "Sam" and closed.json()["closed_at"]
    again = api_a.post_json(f"{BASE}/handoffs/{opened.json()['id']}/close")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "handoff_already_closed")
    assert api_a.get(f"{BASE}/handoffs?open=true").json()["items"] == []

    got = api_a.get(f"{BASE}/orders/{order.pk}").json()
    assert (got["total"], got["items"][0]["name"], got["items"][0]["quantity"]) == ("240.00", "Coffee", 2)
    shipped = api_a.post_json(f"{BASE}/orders/{order.pk}/status", {"status": "shipped"})
    assert shipped.json()["status"] == "shipped"
    api_a.post_json(f"{BASE}/orders/{order.pk}/status", {"status": "delivered"})
    final = api_a.post_json(f"{BASE}/orders/{order.pk}/status", {"status": "cancelled"})
    assert (final.status_code, final.json()["error"]["code"]) == (409, "invalid_status_transition")

    closed_ticket = api_a.post_json(f"{BASE}/support-tickets/{ticket.pk}/status", {"status": "closed"}).json()
    assert closed_ticket["status"] == "closed" and closed_ticket["closed_at"]
    assert api_a.get(f"{BASE}/support-tickets?status=closed").json()["count"] == 1


def test_catalogue_crud(api_a, tenant_a, in_tenant):
    created = api_a.post_json(f"{BASE}/catalogue-items", {"name": "Flat white", "price": "3.50"})
    assert created.status_code == 201 and created.json()["price"] == "3.50"
    item = created.json()
    negative = api_a.post_json(f"{BASE}/catalogue-items", {"name": "Free", "price": "-1"})
    assert negative.status_code == 422
    assert api_a.patch_json(f"{BASE}/catalogue-items/{item['id']}", {"price": "4"}).json()["price"] == "4.00"
    taken = api_a.post_json(f"{BASE}/catalogue-items", {"name": "Flat white", "price": "1"})
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "name_taken")
    assert api_a.delete_json(f"{BASE}/catalogue-items/{item['id']}").status_code == 204
    with in_tenant(tenant_a):
        assert not CatalogueItem.objects.exists()


def test_a_catalogue_items_category_is_a_section_title_of_at_most_24_characters(api_a):
    created = api_a.post_json(f"{BASE}/catalogue-items", {"name": "Latte", "price": "4", "category": " Drinks "})
    assert created.status_code == 201 and created.json()["category"] == "Drinks"
    too_long = api_a.patch_json(f"{BASE}/catalogue-items/{created.json()['id']}", {"category": "x" * 25})
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"] == [{"field": "category", "message": "at most 24 characters"}]


@pytest.fixture
def beta_rows(tenant_b, in_tenant):
    """One of everything, in beta: alpha's key must never reach any of it."""
    with in_tenant(tenant_b):
        builtins_install()
        number, contact = PhoneNumberFactory(), ContactFactory()
        state = conversation_state_start(contact=contact, phone_number=number,
                                         workflow=Workflow.objects.get(name="new_order"), step="ask_quantity",
                                         now=timezone.now() + timedelta(minutes=1))
        return {
            "workflow-templates": WorkflowTemplate.objects.get(template_name="main_menu").pk,
            "workflows": Workflow.objects.get(name="support").pk,
            "conversation-states": state.pk,
            "handoffs": handoff_open(contact=ContactFactory(), phone_number=number, opened_by="business").pk,
            "catalogue-items": CatalogueItem.objects.get(name="Tea").pk,
            "orders": order_create(contact=contact, phone_number=number,
                                   lines=[(CatalogueItem.objects.get(name="Coffee"), 1)]).pk,
            "support-tickets": support_ticket_create(contact=contact, phone_number=number, issue_type="Other",
                                                     description="Hello").pk,
            "contact": contact.pk, "phone_number_id": number.phone_number_id,
        }


ID_ENDPOINTS = [
    ("get", "workflow-templates/{id}", None, "workflow_template_not_found"),
    ("patch_json", "workflow-templates/{id}", {"priority": 9}, "workflow_template_not_found"),
    ("delete_json", "workflow-templates/{id}", None, "workflow_template_not_found"),
    ("get", "workflow-templates/{id}/versions", None, "workflow_template_not_found"),
    ("post_json", "workflow-templates/{id}/preview", None, "workflow_template_not_found"),
    ("get", "workflows/{id}", None, "workflow_not_found"),
    ("patch_json", "workflows/{id}", {"is_active": False}, "workflow_not_found"),
    ("delete_json", "workflows/{id}", None, "workflow_not_found"),
    ("get", "workflows/{id}/versions", None, "workflow_not_found"),
    ("get", "conversation-states/{id}", None, "conversation_state_not_found"),
    ("post_json", "conversation-states/{id}/end", None, "conversation_state_not_found"),
    ("get", "handoffs/{id}", None, "handoff_not_found"),
    ("post_json", "handoffs/{id}/close", None, "handoff_not_found"),
    ("get", "catalogue-items/{id}", None, "catalogue_item_not_found"),
    ("patch_json", "catalogue-items/{id}", {"price": "1"}, "catalogue_item_not_found"),
    ("delete_json", "catalogue-items/{id}", None, "catalogue_item_not_found"),
    ("get", "orders/{id}", None, "order_not_found"),
    ("post_json", "orders/{id}/status", {"status": "cancelled"}, "order_not_found"),
    ("get", "support-tickets/{id}", None, "support_ticket_not_found"),
    ("post_json", "support-tickets/{id}/status", {"status": "closed"}, "support_ticket_not_found"),
]


@pytest.mark.parametrize(("method", "path", "body", "code"), ID_ENDPOINTS)
def test_another_tenants_ids_are_not_found(api_a, beta_rows, tenant_b, in_tenant, method, path, body, code):
    resource = path.split("/")[0]
    url = f"{BASE}/{path.format(id=beta_rows[resource])}"
    call = getattr(api_a, method)
    response = call(url, body) if body is not None else call(url)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == code
    with in_tenant(tenant_b):  # untouched
        assert WorkflowTemplate.objects.get(pk=beta_rows["workflow-templates"]).priority == 0
        assert Workflow.objects.get(pk=beta_rows["workflows"]).is_active
        assert ConversationState.objects.get(pk=beta_rows["conversation-states"]).status == "active"
        assert HumanHandoff.objects.get(pk=beta_rows["handoffs"]).is_open
        assert str(CatalogueItem.objects.get(pk=beta_rows["catalogue-items"]).price) == "90.00"
        assert Order.objects.get(pk=beta_rows["orders"]).status == "confirmed"
        assert SupportTicket.objects.get(pk=beta_rows["support-tickets"]).status == "open"


def test_another_tenants_contact_and_number_cannot_be_handed_off(api_a, beta_rows, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        own_number = PhoneNumberFactory()
        own_contact = ContactFactory()
    assert own_contact.pk != beta_rows["contact"]  # ids are per schema: make sure this one is only beta's
    foreign_contact = api_a.post_json(f"{BASE}/handoffs", {"contact_id": beta_rows["contact"],
                                                           "phone_number_id": own_number.phone_number_id})
    foreign_number = api_a.post_json(f"{BASE}/handoffs", {"contact_id": own_contact.pk,
                                                          "phone_number_id": beta_rows["phone_number_id"]})
    assert (foreign_contact.status_code, foreign_contact.json()["error"]["code"]) == (404, "contact_not_found")
    assert (foreign_number.status_code, foreign_number.json()["error"]["code"]) == (404, "phone_number_not_found")


def test_lists_show_only_the_own_tenants_rows(api_a, api_b, alpha_rows, beta_rows):
    for resource in ("workflow-templates", "workflows", "conversation-states", "catalogue-items", "orders",
                     "support-tickets", "handoffs"):
        alpha_ids = {item["id"] for item in api_a.get(f"{BASE}/{resource}?limit=100").json()["items"]}
        beta_ids = {item["id"] for item in api_b.get(f"{BASE}/{resource}?limit=100").json()["items"]}
        if resource != "handoffs":
            assert alpha_ids, resource
        assert beta_rows[resource] in beta_ids, resource
        assert api_b.get(f"{BASE}/{resource}").status_code == 200


def test_the_api_needs_a_key_of_this_tenant(api_b, tenant_a):
    from tests.conftest import ApiClient

    foreign = ApiClient("alpha.localhost", api_b.key)
    assert foreign.get(f"{BASE}/workflows").status_code == 401
    assert ApiClient("alpha.localhost").get(f"{BASE}/orders").status_code == 401
