"""The write services of the automation app, one module per entity; the names below are its API.

`conversation_states_expire` runs on a schedule in every tenant (automations.tasks).
"""

from automations.services.catalogue import (
    catalogue_item_create,
    catalogue_item_delete,
    catalogue_item_update,
)
from automations.services.handoffs import handoff_close, handoff_open
from automations.services.orders import order_create, order_status_set
from automations.services.state import (
    conversation_state_end,
    conversation_state_start,
    conversation_state_update,
    conversation_states_expire,
)
from automations.services.support import support_ticket_create, support_ticket_status_set
from automations.services.templates import (
    workflow_template_create,
    workflow_template_delete,
    workflow_template_update,
)
from automations.services.workflows import workflow_create, workflow_delete, workflow_update

__all__ = [
    "catalogue_item_create",
    "catalogue_item_delete",
    "catalogue_item_update",
    "conversation_state_end",
    "conversation_state_start",
    "conversation_state_update",
    "conversation_states_expire",
    "handoff_close",
    "handoff_open",
    "order_create",
    "order_status_set",
    "support_ticket_create",
    "support_ticket_status_set",
    "workflow_create",
    "workflow_delete",
    "workflow_template_create",
    "workflow_template_delete",
    "workflow_template_update",
    "workflow_update",
]
