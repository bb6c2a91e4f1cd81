"""Links from WhatsApp Flows to conversational flows (the automation app, label `menus`, issue 6).

That app is built separately: until its model exists every link reads as missing, which the sync
command reports as a warning rather than an error.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

from flows_builder.models import WhatsAppFlow

# (app label, model) candidates for a conversational flow, with the field holding its name.
CONVERSATIONAL_FLOW_MODELS = (("menus", "Workflow"), ("menus", "ConversationalFlow"))
CONVERSATIONAL_FLOW_NAME_FIELDS = ("name", "template_name")


def conversational_flow_exists(name: str) -> bool:
    """True when a conversational flow called `name` exists in this tenant; False without the app."""
    for app_label, model_name in CONVERSATIONAL_FLOW_MODELS:
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        for field_name in CONVERSATIONAL_FLOW_NAME_FIELDS:
            try:
                model._meta.get_field(field_name)
            except FieldDoesNotExist:
                continue
            return model._default_manager.filter(**{field_name: name}).exists()
    return False


def flow_link_warnings(*, flow: WhatsAppFlow) -> list[str]:
    """Human-readable problems with the flow's link; [] when it has none or the link resolves."""
    if not flow.flow_definition_name or conversational_flow_exists(flow.flow_definition_name):
        return []
    return [f"linked conversational flow '{flow.flow_definition_name}' does not exist"]
