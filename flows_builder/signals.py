"""What the Flows app asks of, or announces to, higher apps. Receivers connect in AppConfig.ready().

flow_link_checked (sender: WhatsAppFlow; flow: the flow)
    Sent to check a Flow's link to the conversational flow it falls back to
    (`flow.flow_definition_name`). The app that owns conversational flows answers with a list of
    human-readable problems ([] when the link resolves); the answers are collected by
    flows_builder.links.flow_link_warnings.
"""

from __future__ import annotations

from django.dispatch import Signal

flow_link_checked = Signal()
