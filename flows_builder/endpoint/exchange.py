"""One data-exchange request, from signed and encrypted bytes to an encrypted answer.

Order matters and follows META.md: the signature first (432, nothing decrypted for a forged
request), then decryption (421, which makes Meta fetch the public key again), then the flow token
(427; a token counts only at the endpoint of a number of its flow's account). Decrypted payloads
never reach a log line: only the action and the outcome do. A flow without a handler in code is
answered from its tenant's configuration (endpoint/configured.py), or, with none, with Meta's
screen error (`data.error_message`) and a warning naming the flow.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.utils import timezone

from flows_builder.crypto import FlowDecryptionError, decrypt_request, encrypt_response
from flows_builder.endpoint.configured import configured_answer, screen_error_answer
from flows_builder.endpoint.handlers import (
    FLOW_ENDPOINT_HANDLERS,
    FlowEndpointHandler,
    FlowEndpointRequest,
    FlowTokenRejected,
)
from flows_builder.endpoint.keys import endpoint_private_key
from flows_builder.exchange_config import flow_exchange_config_find
from flows_builder.graph import revealed
from flows_builder.models import FlowToken, WhatsAppFlow
from platform_core.text import json_storable
from waba import meta
from waba.models import PhoneNumber
from webhooks.signature import verify_signature

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EndpointReply:
    status: int
    body: str
    content_type: str = "text/plain"


def _error(status: int, message: str) -> EndpointReply:
    return EndpointReply(status, json.dumps({"error_msg": message}), "application/json")


def flow_endpoint_exchange(
    *, phone_number: PhoneNumber, raw_body: bytes, signature_header: str | None
) -> EndpointReply:
    """Answer one request to `phone_number`'s endpoint; runs in the tenant schema that owns the number."""
    number_id = phone_number.phone_number_id
    app_secret = revealed(phone_number.account.app_secret)
    if not app_secret:
        logger.warning("flow endpoint %s: the account has no app secret; refusing every request", number_id)
    if not verify_signature(raw_body, signature_header, app_secret):
        logger.info("flow endpoint %s: bad or missing signature -> 432", number_id)
        return _error(meta.FLOW_ENDPOINT_SIGNATURE_FAILED_STATUS, "Request signature authentication failed.")

    private_key = endpoint_private_key(phone_number=phone_number)
    try:
        if private_key is None:
            raise FlowDecryptionError("no_key", "This number has no business key pair.")
        body = json.loads(raw_body)
        decrypted = decrypt_request(body, private_key)
    except (ValueError, RecursionError, FlowDecryptionError) as exc:
        reason = exc.reason if isinstance(exc, FlowDecryptionError) else "invalid_body"
        logger.info("flow endpoint %s: decryption failed (%s) -> 421", number_id, reason)
        return _error(meta.FLOW_ENDPOINT_DECRYPTION_FAILED_STATUS, "The request could not be decrypted.")

    # What the customer typed reaches handlers that may store it: NUL and lone surrogates become U+FFFD.
    payload = json_storable(decrypted.payload)
    action = payload.get("action")
    if not isinstance(action, str):
        logger.info("flow endpoint %s: no action -> 400", number_id)
        return _error(400, "The request has no action.")
    if action == meta.FLOW_ENDPOINT_PING_ACTION:
        answer: dict[str, Any] = {"data": {"status": "active"}}
    else:
        token = _live_token(payload.get("flow_token"), phone_number=phone_number)
        if token is None:
            logger.info(
                "flow endpoint %s: %s with an invalid or expired flow token -> 427", number_id, action
            )
            return _error(meta.FLOW_ENDPOINT_TOKEN_INVALID_STATUS, "The flow token is no longer valid.")
        data = found if isinstance(found := payload.get("data"), dict) else {}
        if action == "data_exchange" and "error" in data:
            # Meta's error notification about a previous answer of ours: acknowledge it.
            logger.warning("flow endpoint %s: Meta reported an error for flow %s", number_id, token.flow.name)
            answer = {"data": {"acknowledged": True}}
        elif action not in meta.FLOW_ENDPOINT_ACTIONS:
            logger.info("flow endpoint %s: unknown action -> 400", number_id)
            return _error(400, "Unknown action.")
        else:
            handler = FLOW_ENDPOINT_HANDLERS.get(token.flow.name) or _configured_handler(token.flow)
            request = FlowEndpointRequest(
                action=action,
                screen=payload.get("screen"),
                flow=token.flow,
                token=token,
                contact=token.contact,
                version=payload.get("version"),
                data=data,
            )
            try:
                answer = handler(request)
            except FlowTokenRejected:
                logger.info(
                    "flow endpoint %s: handler of %s rejected the token -> 427", number_id, token.flow.name
                )
                return _error(meta.FLOW_ENDPOINT_TOKEN_INVALID_STATUS, "The flow token is no longer valid.")
            except Exception as exc:  # the customer sees Meta's generic error; we keep the type only
                logger.error(
                    "flow endpoint %s: handler of %s failed with %s",
                    number_id,
                    token.flow.name,
                    type(exc).__name__,
                )
                return _error(500, "The flow's handler failed.")
    logger.info("flow endpoint %s: %s -> 200", number_id, action)
    return EndpointReply(200, encrypt_response(answer, decrypted.aes_key, decrypted.iv))


def _configured_handler(flow: WhatsAppFlow) -> FlowEndpointHandler:
    """The tenant's configuration of `flow`, or Meta's screen error when the flow has none."""
    config = flow_exchange_config_find(flow=flow)
    if config is not None:
        return partial(configured_answer, config=config)
    logger.warning("flow endpoint: flow %s has no data-exchange handler nor configuration", flow.name)
    return screen_error_answer


def _live_token(value: Any, *, phone_number: PhoneNumber) -> FlowToken | None:
    """The token, if it is live and its flow belongs to the account of the number being called.

    Each number's endpoint decrypts with that number's key, so a token issued for a flow of
    another account (another WABA of the same tenant) is refused here like an unknown one.
    """
    if not isinstance(value, str) or not value:
        return None
    token = (
        FlowToken.objects.select_related("flow", "contact")
        .filter(token=value, flow__account_id=phone_number.account_id)
        .first()
    )
    if token is None or not token.is_valid(timezone.now()) or not token.flow.is_active:
        return None
    return token
