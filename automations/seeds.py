"""The built-in menus and workflows a tenant installs with one call: main menu, ordering, tracking
(by steps, or "track ORD-1234" in one message), support, and the conversational flows the built-in
WhatsApp Flows are linked to (Starlink installation, solar cleaning, solar installation, tour inquiry): they run
while a Flow is unpublished and create the same request its response would.

`builtins_install` is idempotent: what already exists under a built-in name is kept as the
tenant left it (their edits win), only what is missing is created; so installing again adds the
built-ins of a newer release. Upgrades in place: a main menu whose keywords are exactly those
an earlier release installed gets today's keywords, and a built-in workflow or menu still exactly as
an earlier release installed it gets today's (EARLIER_*). A small catalogue in two categories is
added when the tenant has none, so the ordering workflow works at once (Coffee costs 120).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from automations import conf
from automations.models import CatalogueItem, Workflow, WorkflowTemplate
from automations.services.catalogue import catalogue_item_create
from automations.services.templates import workflow_template_create, workflow_template_update
from automations.services.workflows import workflow_create, workflow_update
from flows_builder.models import TourInquiry
from messaging.interactive import Button, Row, Section, build_list, build_reply_buttons

MAIN_MENU = "main_menu"
NEW_ORDER = "new_order"
ORDER_TRACKING = "order_tracking"
SUPPORT = "support"
# The conversational flows that the built-in WhatsApp Flows (flows_builder.definitions) are linked to
# and fall back to while unpublished; each books what its Flow books, through the same service.
STARLINK_INSTALLATION = "starlink_installation"
SOLAR_CLEANING = "solar_cleaning"
SOLAR_INSTALLATION = "solar_installation"
TOUR_INQUIRY = "tour_inquiry"

MAIN_MENU_KEYWORDS = ["hi", "hello", "hey", "start", "menu", "help"]
# Keyword lists the main menu was installed with before: a template still holding one of them
# exactly was never edited by the tenant, so `builtins_install` brings it up to MAIN_MENU_KEYWORDS.
MAIN_MENU_EARLIER_KEYWORDS = [["hi", "hello", "hey", "start"]]
TRACK_ORDER_QUICK = "track_order_quick"
# "track ORD-1234", "Track #1234", "track order 1234": the whole message, searched in the folded
# form (keywords.fold); lookup_order_from_message reads the number back from the same text.
TRACK_ORDER_PATTERN = r"^\s*track\s+(?:order\s+)?(?:ord\s*-?\s*)?#?\s*\d{1,10}\s*[.!?]*\s*$"

CATALOGUE: list[tuple[str, Decimal, str, str]] = [
    ("Coffee", Decimal("120"), "Freshly brewed, 250 ml", "Drinks"),
    ("Tea", Decimal("90"), "Black or green, 250 ml", "Drinks"),
    ("Croissant", Decimal("150"), "Butter croissant", "Bakery"),
]


def _buttons(body: str, *buttons: tuple[str, str]) -> dict[str, Any]:
    return build_reply_buttons(body=body, buttons=[Button(id=button_id, title=title) for button_id, title in buttons])


def _ask(text: str, save_as: str, next_step: str, validator: str = "any_text") -> dict[str, Any]:
    return {"send": {"text": text}, "input": {"type": "text", "validator": validator, "save_as": save_as,
                                              "next": next_step}}


def _pick(template: str, save_as: str, next_step: str) -> dict[str, Any]:
    return {"send": {"template": template}, "input": {"type": "choice", "accept_offered": True, "save_as": save_as,
                                                      "next": next_step}}


def _service_request_steps(service: str, first: str, flow: str, done: str) -> dict[str, dict[str, Any]]:
    """Date, time slot and address, then the request of built-in Flow `flow` and the confirmation `done`."""
    return {
        first: _ask(f"Which date suits you for the {service}? For example 2026-06-30.", "preferred_date",
                    "time_slot", validator="date"),
        "time_slot": _pick("service_time_slot", "time_slot", "street"),
        "street": _ask("What is the street and house number?", "street", "city"),
        "city": _ask("Which city?", "city", "region"),
        "region": _ask("Which region or state?", "region", "book"),
        "book": {"action": "create_service_request", "params": {"flow": flow}, "send": {"text": done}},
    }


def _tour_list() -> dict[str, Any]:
    rows = [Row(id=str(tour.value), title=str(tour.label)) for tour in TourInquiry.Tour]
    return build_list(body="Which tour would you like to know more about?", button_text="Tours",
                      sections=[Section(title=None, rows=rows)])


BUILTIN_TEMPLATES: list[dict[str, Any]] = [
    {
        "template_name": "main_menu",
        "description": "The main menu: track, order, support.",
        "type": "button",
        "trigger_keywords": MAIN_MENU_KEYWORDS,
        "match_mode": "contains",
        "structure": _buttons("Hello! How can we help you today?", ("track_order", "Track Order"),
                              ("place_order", "Place Order"), ("get_support", "Get Support")),
    },
    {
        "template_name": "order_cart",
        "description": "The cart after a product was added: add another product or check out.",
        "type": "button",
        "structure": _buttons("Added {product_title} × {quantity}.\n\nYour cart:\n{summary}\nTotal: {total}",
                              ("add_more", "Add another"), ("checkout", "Checkout"), (conf.CANCEL_ID, "Cancel")),
    },
    {
        "template_name": "order_confirm",
        "description": "The order summary with confirm, cancel and edit.",
        "type": "button",
        "structure": _buttons("Your order:\n{summary}\nTotal: {total}\n\nShall we place it?",
                              ("confirm", "Confirm"), (conf.CANCEL_ID, "Cancel"), ("edit", "Edit")),
    },
    {
        "template_name": "order_tracking_result",
        "description": "An order's status, with Track Again and Main Menu.",
        "type": "button",
        "structure": _buttons("Order {order_number}: {order_status}.", ("track_again", "Track Again"),
                              (conf.MENU_ID, "Main Menu")),
    },
    {
        "template_name": "order_tracking_quick",
        "description": 'One message "track ORD-1234": that order\'s status at once.',
        "type": "button",
        "trigger_keywords": [TRACK_ORDER_PATTERN],
        "match_mode": "regex",
        "structure": _buttons("To follow an order, choose Track Order in the main menu.",
                              (conf.MENU_ID, "Main Menu")),
    },
    {
        "template_name": "support_issue_types",
        "description": "What the support request is about.",
        "type": "button",
        "structure": _buttons("What do you need help with?", ("order_problem", "Order problem"),
                              ("payment", "Payment"), ("other", "Something else")),
    },
    {
        "template_name": "service_time_slot",
        "description": "The time of day of a service visit.",
        "type": "button",
        "structure": _buttons("Which time of day suits you best?", ("morning", "Morning (8-12)"),
                              ("afternoon", "Afternoon (12-16)"), ("evening", "Evening (16-19)")),
    },
    {
        "template_name": "starlink_kit",
        "description": "The Starlink kit to install.",
        "type": "button",
        "structure": _buttons("Which Starlink kit do you have?", ("standard", "Standard"), ("mini", "Mini"),
                              ("flat_high_performance", "Flat High Perf.")),
    },
    {
        "template_name": "starlink_mount",
        "description": "Where the Starlink dish is mounted.",
        "type": "button",
        "structure": _buttons("Where should the dish be mounted?", ("roof", "Roof"), ("wall", "Wall"),
                              ("pole", "Pole")),
    },
    {
        "template_name": "solar_roof_type",
        "description": "The roof the solar panels are on.",
        "type": "button",
        "structure": _buttons("What kind of roof are the panels on?", ("pitched_tile", "Pitched, tiles"),
                              ("pitched_metal", "Pitched, metal"), ("flat", "Flat roof")),
    },
    {
        "template_name": "solar_panel_type",
        "description": "The type of solar panels.",
        "type": "button",
        "structure": _buttons("What type are the panels?", ("monocrystalline", "Monocrystalline"),
                              ("polycrystalline", "Polycrystalline"), ("unknown", "Not sure")),
    },
    {
        "template_name": "solar_installation_type",
        "description": "The kind of solar installation.",
        "type": "button",
        "structure": _buttons("What kind of installation is it?", ("residential", "Residential"),
                              ("commercial", "Commercial"), ("off_grid", "Off-grid")),
    },
    {
        "template_name": "tour_choice",
        "description": "The tours a travel customer can ask about.",
        "type": "list",
        "structure": _tour_list(),
    },
    {
        "template_name": "tour_budget",
        "description": "A tour's budget per person.",
        "type": "button",
        "structure": _buttons("What is your budget per person?", *(
            (str(budget.value), str(budget.label)[:20]) for budget in TourInquiry.Budget)),
    },
]

BUILTIN_WORKFLOWS: list[dict[str, Any]] = [
    {
        "name": NEW_ORDER,
        "description": "Products from the catalogue into a cart, each with a quantity; summary, confirm: "
                       "creates an Order.",
        "definition": {
            "start": "choose_product",
            "steps": {
                "browse": {"set": {"catalogue_page": 0}, "next": "choose_product"},
                "choose_product": {
                    "send": {"render": "catalogue_list"},
                    "params": {"body": "What would you like to order?", "button": "Products"},
                    "input": {"type": "choice", "accept_offered": True, "save_as": "product",
                              "choices": [{"id": conf.CATALOGUE_MORE_ID, "next": "next_page"}],
                              "next": "ask_quantity", "reprompt": "Please pick a product from the list."},
                },
                "next_page": {"action": "catalogue_next_page", "next": "choose_product"},
                "ask_quantity": {
                    "send": {"text": "How many {product_title} would you like?"},
                    "input": {"type": "text", "validator": "positive_integer", "save_as": "quantity",
                              "next": "add_to_cart"},
                },
                "add_to_cart": {
                    "action": "cart_add",
                    "on_error": "summary",
                    "send": {"template": "order_cart"},
                    "input": {"type": "choice", "choices": [{"id": "add_more", "next": "browse"},
                                                            {"id": "checkout", "next": "summary"}]},
                },
                "summary": {
                    "action": "order_summary",
                    "on_error": "browse",
                    "send": {"template": "order_confirm"},
                    "input": {"type": "choice", "choices": [
                        {"id": "confirm", "next": "place"},
                        {"id": "edit", "set": {"cart": [], "catalogue_page": 0}, "next": "choose_product"}]},
                },
                "place": {
                    "action": "create_order",
                    "on_error": "browse",
                    "send": {"text": "Thank you! Your order {order_number} is placed.\n{summary}\nTotal: {total}\n\n"
                                     "Send \"track {order_number}\" to follow it."},
                },
            },
        },
    },
    {
        "name": ORDER_TRACKING,
        "description": "Asks for an order number and answers with its status.",
        "definition": {
            "start": "ask_order_id",
            "steps": {
                "ask_order_id": {
                    "send": {"text": "Please send your order number, for example ORD-1234."},
                    "input": {"type": "text", "validator": "order_number", "save_as": "order_id",
                              "next": "answer", "reprompt": "Please send the order number, for example ORD-1234."},
                },
                "answer": {
                    "action": "lookup_order_status",
                    "on_error": "ask_order_id",
                    "send": {"template": "order_tracking_result"},
                    "input": {"type": "choice", "choices": [{"id": "track_again", "next": "ask_order_id"}]},
                },
            },
        },
    },
    {
        "name": TRACK_ORDER_QUICK,
        "description": 'Answers "track <order number>" with the status of that order of the contact.',
        "definition": {
            "start": "answer",
            "steps": {
                "answer": {
                    "action": "lookup_order_from_message",
                    "send": {"template": "order_tracking_result"},
                    "input": {"type": "choice", "choices": [{"id": "track_again", "workflow": ORDER_TRACKING}]},
                },
            },
        },
    },
    {
        "name": SUPPORT,
        "description": "Issue type, then a description: opens a SupportTicket.",
        "definition": {
            "start": "issue_type",
            "steps": {
                "issue_type": {
                    "send": {"template": "support_issue_types"},
                    "input": {"type": "choice", "accept_offered": True, "save_as": "issue_type", "next": "describe"},
                },
                "describe": {
                    "send": {"text": "Please describe the problem in one message."},
                    "input": {"type": "text", "validator": "any_text", "save_as": "description", "next": "open"},
                },
                "open": {
                    "action": "create_support_ticket",
                    "send": {"text": "Thank you. We opened ticket #{ticket_id} and will answer you here."},
                },
            },
        },
    },
    {
        "name": STARLINK_INSTALLATION,
        "description": "Name, kit, mount, date, time and address: books a Starlink installation "
                       "(the Starlink installation Flow's fallback).",
        "definition": {
            "start": "full_name",
            "steps": {
                "full_name": _ask("Let's book your Starlink installation. What is your full name?", "full_name",
                                  "kit_type"),
                "kit_type": _pick("starlink_kit", "kit_type", "mount_location"),
                "mount_location": _pick("starlink_mount", "mount_location", "preferred_date"),
                **_service_request_steps(
                    "installation", "preferred_date", STARLINK_INSTALLATION,
                    "Thank you, {full_name}! Your Starlink installation request #{request_id} is booked for "
                    "{preferred_date}, {time_slot_title}. We will confirm it here."),
            },
        },
    },
    {
        "name": SOLAR_CLEANING,
        "description": "Name, roof, panels, date, time and address: books a solar panel cleaning "
                       "(the Solar panel cleaning Flow's fallback).",
        "definition": {
            "start": "full_name",
            "steps": {
                "full_name": _ask("Let's book your solar panel cleaning. What is your full name?", "full_name",
                                  "roof_type"),
                "roof_type": _pick("solar_roof_type", "roof_type", "panel_type"),
                "panel_type": _pick("solar_panel_type", "panel_type", "panel_count"),
                "panel_count": _ask("How many panels are there?", "panel_count", "preferred_date",
                                    validator="positive_integer"),
                **_service_request_steps(
                    "cleaning", "preferred_date", "solar_panel_cleaning",
                    "Thank you, {full_name}! Your cleaning request #{request_id} is booked for "
                    "{preferred_date}, {time_slot_title}. We will confirm it here."),
            },
        },
    },
    {
        "name": SOLAR_INSTALLATION,
        "description": "Installation type, order number, name, date, time and address: schedules a solar "
                       "installation (the Solar installation Flow's fallback).",
        "definition": {
            "start": "installation_type",
            "steps": {
                "installation_type": _pick("solar_installation_type", "installation_type", "order_number"),
                "order_number": _ask("What is your order number?", "order_number", "full_name"),
                "full_name": _ask("What is your full name?", "full_name", "preferred_date"),
                **_service_request_steps(
                    "installation", "preferred_date", SOLAR_INSTALLATION,
                    "Thank you, {full_name}! Your solar installation request #{request_id} is booked for "
                    "{preferred_date}, {time_slot_title}. We will confirm it here."),
            },
        },
    },
    {
        "name": TOUR_INQUIRY,
        "description": "Tour, travel dates, travellers, budget and name: records a tour inquiry "
                       "(the Tour inquiry Flow's fallback).",
        "definition": {
            "start": "tour",
            "steps": {
                "tour": _pick("tour_choice", "tour", "departure_date"),
                "departure_date": _ask("When would you like to leave? For example 2026-07-01.", "departure_date",
                                       "return_date", validator="date"),
                "return_date": _ask("And when would you come back?", "return_date", "travellers",
                                    validator="date"),
                "travellers": _ask("How many people are travelling?", "travellers", "budget",
                                   validator="positive_integer"),
                "budget": _pick("tour_budget", "budget", "full_name"),
                "full_name": _ask("What is your full name?", "full_name", "book"),
                "book": {"action": "create_tour_inquiry", "send": {"text": (
                    "Thank you, {full_name}! We received your inquiry #{inquiry_id} about the {tour_title} "
                    "from {departure_date} to {return_date} and will send you a quote here.")}},
            },
        },
    },
    {
        "name": MAIN_MENU,
        "description": "Track Order, Place Order, Get Support.",
        "is_main_menu": True,
        "definition": {
            "start": "menu",
            "steps": {
                "menu": {
                    "send": {"template": "main_menu"},
                    "input": {"type": "choice", "choices": [
                        {"id": "track_order", "workflow": ORDER_TRACKING},
                        {"id": "place_order", "workflow": NEW_ORDER},
                        {"id": "get_support", "workflow": SUPPORT},
                    ]},
                },
            },
        },
    },
]
# Definitions and menus as an earlier release installed them: a tenant's copy still equal to one
# was never edited, so `builtins_install` brings it up to today's (cart, paged catalogue, order numbers).
EARLIER_WORKFLOW_DEFINITIONS: dict[str, list[dict[str, Any]]] = {
    NEW_ORDER: [{
        "start": "choose_product",
        "steps": {
            "choose_product": {
                "send": {"render": "catalogue_list"},
                "params": {"body": "What would you like to order?", "button": "Products"},
                "input": {"type": "choice", "accept_offered": True, "save_as": "product",
                          "next": "ask_quantity", "reprompt": "Please pick a product from the list."},
            },
            "ask_quantity": {
                "send": {"text": "How many {product_title} would you like?"},
                "input": {"type": "text", "validator": "positive_integer", "save_as": "quantity",
                          "next": "summary"},
            },
            "summary": {
                "action": "order_summary",
                "on_error": "choose_product",
                "send": {"template": "order_confirm"},
                "input": {"type": "choice", "choices": [{"id": "confirm", "next": "place"},
                                                        {"id": "edit", "next": "choose_product"}]},
            },
            "place": {
                "action": "create_order",
                "on_error": "choose_product",
                "send": {"text": "Thank you! Your order #{order_id} is placed. Total: {total}.\n"
                                 "Send \"menu\" and choose Track Order to follow it."},
            },
        },
    }],
    ORDER_TRACKING: [{
        "start": "ask_order_id",
        "steps": {
            "ask_order_id": {
                "send": {"text": "Please send your order number, for example 42."},
                "input": {"type": "text", "validator": "positive_integer", "save_as": "order_id",
                          "next": "answer", "reprompt": "Please send the order number as digits, for example 42."},
            },
            "answer": {
                "action": "lookup_order_status",
                "on_error": "ask_order_id",
                "send": {"template": "order_tracking_result"},
                "input": {"type": "choice", "choices": [{"id": "track_again", "next": "ask_order_id"}]},
            },
        },
    }],
}
EARLIER_TEMPLATE_STRUCTURES: dict[str, list[dict[str, Any]]] = {
    "order_tracking_result": [_buttons("Order #{order_id}: {order_status}.", ("track_again", "Track Again"),
                                       (conf.MENU_ID, "Main Menu"))],
}
# Which template starts which workflow when its keywords match.
TEMPLATE_STARTS = {"main_menu": MAIN_MENU, "order_tracking_quick": TRACK_ORDER_QUICK}


@dataclass
class BuiltinsInstalled:
    created_templates: list[str] = field(default_factory=list)
    created_workflows: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    created_catalogue_items: list[str] = field(default_factory=list)
    upgraded: list[str] = field(default_factory=list)


def builtins_install(*, changed_by: str = "builtin") -> BuiltinsInstalled:
    """Create the built-in templates, workflows and (when empty) catalogue in this tenant."""
    result = BuiltinsInstalled()
    with transaction.atomic():
        existing_templates = set(WorkflowTemplate.objects.values_list("template_name", flat=True))
        for spec in BUILTIN_TEMPLATES:
            if spec["template_name"] in existing_templates:
                result.kept.append(f"template:{spec['template_name']}")
                continue
            workflow_template_create(**spec, changed_by=changed_by)
            result.created_templates.append(spec["template_name"])
        existing_workflows = set(Workflow.objects.values_list("name", flat=True))
        main_menu_taken = Workflow.objects.filter(is_main_menu=True).exists()
        for spec in BUILTIN_WORKFLOWS:
            if spec["name"] in existing_workflows:
                result.kept.append(f"workflow:{spec['name']}")
                continue
            is_main_menu = spec.get("is_main_menu", False) and not main_menu_taken
            workflow_create(**{**spec, "is_main_menu": is_main_menu}, is_builtin=True, changed_by=changed_by)
            result.created_workflows.append(spec["name"])
        for template_name, workflow_name in TEMPLATE_STARTS.items():
            if template_name in result.created_templates:
                workflow_template_update(template=WorkflowTemplate.objects.get(template_name=template_name),
                                         workflow=Workflow.objects.get(name=workflow_name), changed_by=changed_by)
        if _main_menu_keywords_upgrade(changed_by=changed_by):
            result.upgraded.append(f"template:{MAIN_MENU}")
        result.upgraded.extend(_unedited_builtins_upgrade(changed_by=changed_by))
        if not CatalogueItem.objects.exists():
            for position, (name, price, description, category) in enumerate(CATALOGUE):
                catalogue_item_create(name=name, price=price, description=description, category=category,
                                      position=position)
                result.created_catalogue_items.append(name)
    return result


def _unedited_builtins_upgrade(*, changed_by: str) -> list[str]:
    """Bring templates and workflows still exactly as an earlier release installed them up to today's,
    each as a new version; returns what was upgraded ("template:<name>", "workflow:<name>")."""
    upgraded = []
    structures = {spec["template_name"]: spec["structure"] for spec in BUILTIN_TEMPLATES}
    for template in WorkflowTemplate.objects.filter(template_name__in=list(EARLIER_TEMPLATE_STRUCTURES)):
        if template.structure in EARLIER_TEMPLATE_STRUCTURES[template.template_name]:
            workflow_template_update(template=template, structure=structures[template.template_name],
                                     changed_by=changed_by)
            upgraded.append(f"template:{template.template_name}")
    definitions = {spec["name"]: spec["definition"] for spec in BUILTIN_WORKFLOWS}
    for workflow in Workflow.objects.filter(name__in=list(EARLIER_WORKFLOW_DEFINITIONS)):
        if workflow.definition in EARLIER_WORKFLOW_DEFINITIONS[workflow.name]:
            workflow_update(workflow=workflow, definition=definitions[workflow.name], changed_by=changed_by)
            upgraded.append(f"workflow:{workflow.name}")
    return upgraded


def _main_menu_keywords_upgrade(*, changed_by: str) -> bool:
    """Give an unedited main menu (keywords exactly as an earlier release installed them) today's
    keywords, as a new template version. True when it did."""
    template = WorkflowTemplate.objects.filter(template_name="main_menu").first()
    if template is None or list(template.trigger_keywords or []) not in MAIN_MENU_EARLIER_KEYWORDS:
        return False
    workflow_template_update(template=template, trigger_keywords=MAIN_MENU_KEYWORDS, changed_by=changed_by)
    return True
