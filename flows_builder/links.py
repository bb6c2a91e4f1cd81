"""Links from WhatsApp Flows to the conversational flows they fall back to.

Conversational flows belong to a higher app (automations), which answers the
`flow_link_checked` signal; with no app answering, a link cannot resolve.
"""

from __future__ import annotations

from flows_builder.models import WhatsAppFlow
from flows_builder.signals import flow_link_checked


def flow_link_warnings(*, flow: WhatsAppFlow) -> list[str]:
    """Human-readable problems with the flow's link; [] when it has none or the link resolves."""
    if not flow.flow_definition_name:
        return []
    answers = [answer for _, answer in flow_link_checked.send(sender=WhatsAppFlow, flow=flow) if answer is not None]
    if not answers:
        return [f"linked conversational flow '{flow.flow_definition_name}' does not exist"]
    return [problem for answer in answers for problem in answer]
