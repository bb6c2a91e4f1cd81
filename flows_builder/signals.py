"""What the Flows app asks of, or announces to, higher apps. Receivers connect in AppConfig.ready().

flow_link_checked (sender: WhatsAppFlow; flow: the flow)
    Sent to check a Flow's link to the conversational flow it falls back to
    (`flow.flow_definition_name`). The app that owns conversational flows answers with a list of
    human-readable problems ([] when the link resolves); the answers are collected by
    flows_builder.links.flow_link_warnings.

flow_exchange_lookup (sender: WhatsAppFlow; flow, source, params, contact)
    Sent when a static data-exchange answer declares `{"$lookup": source, **params}` (sources and
    their params: flows_builder.exchange_config.LOOKUP_SOURCES). The app that owns `source`'s
    records answers Dropdown options `[{"id", "title", "description"?}]` read in the current tenant
    schema (`contact` is the customer filling the flow); the others answer None.
"""

from __future__ import annotations

from django.dispatch import Signal

flow_link_checked = Signal()
flow_exchange_lookup = Signal()
