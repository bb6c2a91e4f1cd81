"""Answers for flows served by their tenant's configuration (FlowExchangeConfig) instead of code.

Static answers come from the stored table, with any declared lookup (`{"$lookup": source}`) filled
by the app owning those records (flows_builder.signals.flow_exchange_lookup). Forwarded requests go to the tenant's URL as the
decrypted request body, signed with Standard Webhooks headers, within
FLOW_EXCHANGE_FORWARD_TIMEOUT_S (Meta gives up after 10 s). Whatever goes wrong there (refused
URL, timeout, error status, an answer that is not the shape Meta expects) becomes Meta's
documented screen error, `{"screen": <current screen>, "data": {"error_message": ...}}`, so the
customer sees a message on the screen instead of a broken flow. Log lines name the flow and the
kind of failure, never the URL, the secret or the bodies.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from flows_builder.endpoint.handlers import FlowEndpointRequest
from flows_builder.exchange_config import LOOKUP_KEY, flow_exchange_signing_secrets
from flows_builder.models import FlowExchangeConfig, WhatsAppFlow
from flows_builder.signals import flow_exchange_lookup
from platform_core.url_guard import UrlRefused, outbound_target
from platform_core.webhook_signing import signature_headers
from waba import meta

logger = logging.getLogger(__name__)

ANSWER_MAX_BYTES = 64 * 1024
USER_AGENT = "WhatsApp-Platform-Flows/1"
NOT_AVAILABLE_MESSAGE = "This step is not available right now. Please try again later."


class ForwardFailed(Exception):
    """The tenant's endpoint gave no usable answer; `reason` is safe to log (no URL, no body)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def screen_error_answer(request: FlowEndpointRequest, message: str = NOT_AVAILABLE_MESSAGE) -> dict[str, Any]:
    """Meta's answer that keeps the customer on the current screen (the first one at INIT) with `message`."""
    screen = request.screen or request.flow.first_screen
    answer: dict[str, Any] = {"data": {"error_message": message}}
    if screen:
        answer["screen"] = screen
    return answer


def configured_answer(request: FlowEndpointRequest, *, config: FlowExchangeConfig) -> dict[str, Any]:
    """The answer to `request` according to `config`; a screen error when it has none to give."""
    if config.mode == FlowExchangeConfig.Mode.STATIC:
        return _static_answer(request, config)
    try:
        return _forwarded_answer(request, config)
    except ForwardFailed as failed:
        logger.warning(
            "flow exchange: forwarding %s of flow %s failed: %s",
            request.action,
            request.flow.name,
            failed.reason,
        )
        return screen_error_answer(request)


def _static_answer(request: FlowEndpointRequest, config: FlowExchangeConfig) -> dict[str, Any]:
    """The entry keyed by the request's screen, else by its action (`INIT` has no screen)."""
    for key in (request.screen, request.action):
        if key and key in config.static_screens:
            entry = config.static_screens[key]
            try:
                data = {name: _looked_up(value, request) for name, value in (entry.get("data") or {}).items()}
            except LookupUnanswered as unanswered:
                logger.warning(
                    "flow exchange: flow %s: no app answers the lookup %s", request.flow.name, unanswered
                )
                return screen_error_answer(request)
            if (
                entry["screen"] in meta.FLOW_RESERVED_SCREEN_IDS
            ):  # SUCCESS closes the flow and returns the token
                response = dict(data.get("extension_message_response") or {})
                response["params"] = {**(response.get("params") or {}), "flow_token": request.token.token}
                data["extension_message_response"] = response
            return {"screen": entry["screen"], "data": data}
    logger.warning(
        "flow exchange: flow %s has no static answer for %s on screen %s",
        request.flow.name,
        request.action,
        request.screen,
    )
    return screen_error_answer(request)


class LookupUnanswered(Exception):
    """No installed app answers the declared lookup source."""


def _looked_up(value: Any, request: FlowEndpointRequest) -> Any:
    """`value`, or the options of the lookup it declares (`{"$lookup": source, **params}`)."""
    if not isinstance(value, dict) or LOOKUP_KEY not in value:
        return value
    source = value[LOOKUP_KEY]
    params = {name: param for name, param in value.items() if name != LOOKUP_KEY}
    answers = flow_exchange_lookup.send(
        sender=WhatsAppFlow, flow=request.flow, source=source, params=params, contact=request.contact
    )
    for _, options in answers:
        if options is not None:
            return options
    raise LookupUnanswered(source)


def _forwarded_answer(request: FlowEndpointRequest, config: FlowExchangeConfig) -> dict[str, Any]:
    now = timezone.now()
    body = json.dumps(
        {
            "version": request.version,
            "action": request.action,
            "screen": request.screen,
            "data": request.data,
            "flow_token": request.token.token,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signature_headers(
            secrets_valid=flow_exchange_signing_secrets(config=config, now=now),
            message_id=f"msg_{uuid.uuid4().hex}",
            timestamp=int(now.timestamp()),
            body=body,
        ),
    }
    try:
        target = outbound_target(config.url)
    except UrlRefused:
        raise ForwardFailed("the URL is refused by the SSRF guard") from None
    status, raw = request_post(
        url=target.url, body=body, headers={**headers, **target.headers}, extensions=target.extensions
    )
    if not 200 <= status < 300:
        raise ForwardFailed(f"the endpoint answered HTTP {status}")
    return answer_checked(raw, request=request)


def request_post(
    *, url: str, body: str, headers: dict[str, str], extensions: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """The one place a flow's request leaves over HTTP: the status and at most ANSWER_MAX_BYTES + 1 bytes.

    The whole exchange, answer included, must finish within FLOW_EXCHANGE_FORWARD_TIMEOUT_S: a
    server trickling its answer is cut off at the deadline like a silent one.
    """
    timeout_s = settings.FLOW_EXCHANGE_FORWARD_TIMEOUT_S
    deadline = time.monotonic() + timeout_s
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False) as client, client.stream(
            "POST", url, content=body.encode(), headers=headers, extensions=extensions or {}
        ) as response:
            received = bytearray()
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) > ANSWER_MAX_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise ForwardFailed(f"no complete answer within {timeout_s:g} s")
            return response.status_code, bytes(received)
    except httpx.TimeoutException:
        raise ForwardFailed(f"no answer within {timeout_s:g} s") from None
    except httpx.HTTPError as error:
        raise ForwardFailed(f"the request failed ({type(error).__name__})") from None


def answer_checked(raw: bytes, *, request: FlowEndpointRequest) -> dict[str, Any]:
    """The tenant's answer if Meta can use it: `{"screen", "data"}` or `{"data": {"error_message"}}`."""
    if len(raw) > ANSWER_MAX_BYTES:
        raise ForwardFailed(f"the answer is larger than {ANSWER_MAX_BYTES // 1024} KB")
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError):
        raise ForwardFailed("the answer is not JSON") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
        raise ForwardFailed("the answer has no data object")
    if set(answer) - {"screen", "data"}:
        raise ForwardFailed("the answer has fields other than screen and data")
    screen = answer.get("screen")
    if screen is None:
        if not isinstance(answer["data"].get("error_message"), str):
            raise ForwardFailed("the answer names no screen and carries no error_message")
        return screen_error_answer(request, answer["data"]["error_message"]) | {"data": answer["data"]}
    if screen not in set(request.flow.screen_ids()) | meta.FLOW_RESERVED_SCREEN_IDS:
        raise ForwardFailed("the answer names a screen the flow does not have")
    return {"screen": screen, "data": answer["data"]}
