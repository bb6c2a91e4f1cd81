"""Flow messages: the `interactive` flow payload with a fresh flow_token, and its hand-off to sending.

The payload follows META.md (flow_message_version "3", flow_id, flow_cta, flow_action,
flow_action_payload, mode) and is checked with the same rules as every interactive message
(messaging.interactive.validate_interactive) before a token is recorded.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from flows_builder.errors import FlowMessageInvalid, FlowNotSendable
from flows_builder.models import FlowToken, WhatsAppFlow
from flows_builder.selectors import flow_linked_to
from messaging.interactive import validate_interactive
from messaging.models import Contact
from sending.services import message_send
from waba import meta
from waba.models import PhoneNumber

# Our policy, not Meta's: how long a sent flow may still be completed or call the endpoint.
FLOW_TOKEN_TTL = timedelta(days=30)
FLOW_TOKEN_PREFIX = "ft_"
DEFAULT_LINKED_CTA = "Start"


def flow_message_build(
    *,
    flow: WhatsAppFlow,
    contact: Contact,
    body: str,
    cta: str,
    header: str | None = None,
    footer: str | None = None,
    mode: str = "published",
    screen: str | None = None,
    data: Mapping[str, Any] | None = None,
    action: str = "navigate",
) -> dict[str, Any]:
    """The Graph `messages` body of a flow message to `contact`, recording its unique FlowToken.

    `screen` defaults to the flow's first screen (navigate only); `data` goes to that screen.
    A `data_exchange` action lets the flow's endpoint choose the first screen (INIT).
    """
    _check_sendable(flow, mode=mode, action=action)
    token_value = FLOW_TOKEN_PREFIX + secrets.token_urlsafe(24)
    parameters: dict[str, Any] = {
        "flow_message_version": meta.FLOW_MESSAGE_VERSION,
        "flow_token": token_value,
        "flow_id": flow.meta_flow_id,
        "flow_cta": cta,
        "mode": mode,
        "flow_action": action,
    }
    if action == "navigate":
        target = screen or flow.first_screen
        if target not in flow.screen_ids():
            raise FlowMessageInvalid(
                f"Flow '{flow.name}' has no screen {target!r}.",
                details=[{"field": "screen", "message": f"one of {', '.join(flow.screen_ids())}"}],
            )
        payload: dict[str, Any] = {"screen": target}
        if data:
            payload["data"] = dict(data)
        parameters["flow_action_payload"] = payload
    elif screen or data:
        raise FlowMessageInvalid(
            "A data_exchange flow message takes no screen or data: the endpoint answers INIT.",
            details=[{"field": "screen", "message": "not allowed with data_exchange"}],
        )
    interactive: dict[str, Any] = {"type": "flow"}
    if header:
        interactive["header"] = {"type": "text", "text": header}
    interactive["body"] = {"text": body}
    if footer:
        interactive["footer"] = {"text": footer}
    interactive["action"] = {"name": "flow", "parameters": parameters}
    validate_interactive(interactive)  # MenuValidationError (422) names the field and the limit

    FlowToken.objects.create(
        token=token_value, flow=flow, contact=contact, expires_at=timezone.now() + FLOW_TOKEN_TTL
    )
    return {
        "messaging_product": meta.MESSAGING_PRODUCT,
        "recipient_type": "individual",
        "to": contact.wa_id,
        "type": "interactive",
        "interactive": interactive,
    }


def flow_send(
    *,
    flow: WhatsAppFlow,
    contact: Contact,
    phone_number: PhoneNumber,
    body: str,
    cta: str,
    header: str | None = None,
    footer: str | None = None,
    mode: str = "published",
    screen: str | None = None,
    data: Mapping[str, Any] | None = None,
    action: str = "navigate",
) -> Any:
    """Build the flow message and queue it through the send pipeline (window, quotas, rate limits).

    Returns the pipeline's result (`MessageQueued`). The token and the queued message commit
    together: a send the pipeline refuses (e.g. outside the 24-hour window) leaves no orphan token.
    """
    if phone_number.account_id != flow.account_id:
        raise FlowMessageInvalid(
            "The flow belongs to another WhatsApp account than the sending number.",
            details=[{"field": "phone_number_id", "message": "not a number of the flow's account"}],
        )
    with transaction.atomic():
        payload = flow_message_build(
            flow=flow,
            contact=contact,
            body=body,
            cta=cta,
            header=header,
            footer=footer,
            mode=mode,
            screen=screen,
            data=data,
            action=action,
        )
        return message_send(
            phone_number_id=phone_number.phone_number_id,
            to=contact.wa_id,
            content={"type": "interactive", "interactive": payload["interactive"]},
        )


def _check_sendable(flow: WhatsAppFlow, *, mode: str, action: str) -> None:
    if mode not in meta.FLOW_MODES:
        raise FlowMessageInvalid(
            f"mode must be one of {', '.join(sorted(meta.FLOW_MODES))}.",
            details=[{"field": "mode", "message": "invalid"}],
        )
    if action not in meta.FLOW_ACTIONS:
        raise FlowMessageInvalid(
            f"action must be one of {', '.join(sorted(meta.FLOW_ACTIONS))}.",
            details=[{"field": "action", "message": "invalid"}],
        )
    if action == "data_exchange" and not flow.endpoint_enabled:
        raise FlowMessageInvalid(
            f"Flow '{flow.name}' has no data endpoint: use action navigate.",
            details=[{"field": "action", "message": "data_exchange needs an endpoint flow"}],
        )
    if not flow.is_active:
        raise FlowNotSendable(f"Flow '{flow.name}' is inactive.")
    if not flow.meta_flow_id:
        raise FlowNotSendable(f"Flow '{flow.name}' was never synced to Meta: sync it first.")
    if mode == "published" and not flow.can_send_published:
        raise FlowNotSendable(
            f"Flow '{flow.name}' is {flow.meta_status or 'not published'} at Meta: publish it, or send "
            "it in draft mode to test it."
        )
    if mode == "draft" and flow.meta_status != meta.FlowStatus.DRAFT:
        raise FlowNotSendable(f"Flow '{flow.name}' has no draft at Meta ({flow.meta_status}).")


def flow_send_linked(
    *,
    conversational_flow_name: str,
    contact: Contact,
    phone_number: PhoneNumber,
    body: str | None = None,
    cta: str = DEFAULT_LINKED_CTA,
) -> Any:
    """The automation engine's switch: send the WhatsApp Flow linked to a conversational flow.

    Returns the queued message when an active, published Flow of the number's account is linked
    to `conversational_flow_name`; None when there is none, and the conversational flow runs as
    usual. `body` defaults to the flow's description (or its friendly name).
    """

    flow = flow_linked_to(
        conversational_flow_name=conversational_flow_name, account_id=phone_number.account_id
    )
    if flow is None:
        return None
    return flow_send(
        flow=flow,
        contact=contact,
        phone_number=phone_number,
        body=body or flow.description or flow.friendly_name,
        cta=cta,
    )
