"""Writes and reads of a Flow's data-exchange configuration (FlowExchangeConfig). Tenant schema.

The secret that signs forwarded requests is generated here and returned only when it is created
or rolled: the API shows it once, like the integrations' endpoint secrets.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from flows_builder.errors import FlowExchangeInvalid, FlowExchangeNotConfigured
from flows_builder.models import FlowExchangeConfig, WhatsAppFlow
from platform_core.url_guard import UrlRefused, outbound_url_check
from platform_core.webhook_signing import secret_new, secret_roll, signing_secrets
from waba import meta

# How long a rolled secret keeps signing next to the new one.
STATIC_SCREENS_MAX_BYTES = 64 * 1024
STATIC_KEYS_MAX = 100
# A static answer's data value `{"$lookup": source, **params}` is replaced by the records' options
# when the request is answered (flows_builder.signals.flow_exchange_lookup): source -> its params.
LOOKUP_KEY = "$lookup"
LOOKUP_SOURCES: dict[str, frozenset[str]] = {
    "catalogue_items": frozenset({"category"}),  # the active catalogue items, of one category if given
    "recent_orders": frozenset({"limit"}),  # the customer's newest orders, `limit` of them (5; at most 20)
}


def flow_exchange_config_find(*, flow: WhatsAppFlow) -> FlowExchangeConfig | None:
    return FlowExchangeConfig.objects.filter(flow=flow).first()


def flow_exchange_config_get(*, flow: WhatsAppFlow) -> FlowExchangeConfig:
    config = flow_exchange_config_find(flow=flow)
    if config is None:
        raise FlowExchangeNotConfigured(f"The flow {flow.name} has no data-exchange configuration.")
    return config


@transaction.atomic
def flow_exchange_config_set(
    *,
    flow: WhatsAppFlow,
    mode: str,
    url: str = "",
    static_screens: dict[str, Any] | None = None,
) -> tuple[FlowExchangeConfig, str | None]:
    """Create or replace the configuration; returns it with its new secret (None when it kept one).

    Forwarding needs a URL the SSRF guard accepts; static answers need at least one entry, each
    naming a screen of the flow. A forward configuration keeps its secret across edits.
    """
    config = FlowExchangeConfig.objects.select_for_update().filter(flow=flow).first()
    if config is None:
        config = FlowExchangeConfig(flow=flow)
    new_secret: str | None = None
    if mode == FlowExchangeConfig.Mode.FORWARD:
        config.url = _url_checked(url)
        config.static_screens = {}
        if not config.secret:
            new_secret = config.secret = secret_new()
    elif mode == FlowExchangeConfig.Mode.STATIC:
        config.static_screens = _static_screens_checked(static_screens, flow=flow)
        config.url = ""
    else:
        raise FlowExchangeInvalid(
            "mode must be forward or static.", details=[{"field": "mode", "message": "unknown mode"}]
        )
    config.mode = mode
    config.save()
    return config, new_secret


def flow_exchange_config_delete(*, flow: WhatsAppFlow) -> None:
    flow_exchange_config_get(flow=flow).delete()


def flow_exchange_secret_roll(*, config: FlowExchangeConfig, now: datetime | None = None) -> str:
    """A new secret; the current one keeps signing too for SECRET_OVERLAP. Returns the new secret."""
    if config.mode != FlowExchangeConfig.Mode.FORWARD:
        raise FlowExchangeInvalid("Only a forward configuration has a secret.", details=[{"field": "mode"}])
    return secret_roll(config, now=now or timezone.now())


def flow_exchange_signing_secrets(*, config: FlowExchangeConfig, now: datetime) -> list[str]:
    return signing_secrets(config, now=now)


def _url_checked(url: str) -> str:
    url = url.strip()
    if not url:
        raise FlowExchangeInvalid(
            "Forwarding needs the URL of your endpoint.", details=[{"field": "url", "message": "required"}]
        )
    if len(url) > FlowExchangeConfig._meta.get_field("url").max_length:  # type: ignore[operator]
        raise FlowExchangeInvalid("The URL is too long.", details=[{"field": "url", "message": "too long"}])
    try:
        outbound_url_check(url)
    except UrlRefused as refused:
        raise FlowExchangeInvalid(
            refused.message, details=[{"field": "url", "message": refused.message}]
        ) from None
    return url


def _static_screens_checked(static_screens: dict[str, Any] | None, *, flow: WhatsAppFlow) -> dict[str, Any]:
    """`{key: {"screen": next screen, "data": {...}}}`, keys being screens of the flow or actions."""
    if not isinstance(static_screens, dict) or not static_screens:
        raise FlowExchangeInvalid(
            "Static answers need at least one entry: {screen or action: {screen, data}}.",
            details=[{"field": "static_screens", "message": "required"}],
        )
    if len(static_screens) > STATIC_KEYS_MAX:
        raise FlowExchangeInvalid(
            f"At most {STATIC_KEYS_MAX} static answers.", details=[{"field": "static_screens"}]
        )
    if len(json.dumps(static_screens)) > STATIC_SCREENS_MAX_BYTES:
        raise FlowExchangeInvalid(
            f"The static answers take more than {STATIC_SCREENS_MAX_BYTES // 1024} KB.",
            details=[{"field": "static_screens"}],
        )
    screens = set(flow.screen_ids())
    keys_allowed = screens | set(meta.FLOW_ENDPOINT_ACTIONS)
    problems = []
    for key, answer in static_screens.items():
        pointer = f"static_screens.{key}"
        if key not in keys_allowed:
            problems.append({"field": pointer, "message": "not a screen of this flow nor an action"})
        elif not isinstance(answer, dict) or not isinstance(answer.get("data", {}), dict):
            problems.append({"field": pointer, "message": "must be {screen, data} with data an object"})
        elif answer.get("screen") not in screens | meta.FLOW_RESERVED_SCREEN_IDS:
            problems.append({"field": f"{pointer}.screen", "message": "not a screen of this flow"})
        elif set(answer) - {"screen", "data"}:
            problems.append({"field": pointer, "message": "only screen and data are allowed"})
        else:
            problems.extend(_lookup_problems(answer.get("data", {}), pointer=f"{pointer}.data"))
    if problems:
        raise FlowExchangeInvalid(
            f"{len(problems)} static answer{'s' if len(problems) != 1 else ''} cannot be used; first: "
            f"{problems[0]['field']} {problems[0]['message']}.",
            details=problems,
        )
    return {
        key: {"screen": answer["screen"], "data": answer.get("data", {})}
        for key, answer in static_screens.items()
    }


def _lookup_problems(data: dict[str, Any], *, pointer: str) -> list[dict[str, str]]:
    problems = []
    for name, value in data.items():
        if not isinstance(value, dict) or LOOKUP_KEY not in value:
            continue
        source = value[LOOKUP_KEY]
        if source not in LOOKUP_SOURCES:
            problems.append(
                {
                    "field": f"{pointer}.{name}",
                    "message": f"unknown lookup; known: {', '.join(LOOKUP_SOURCES)}",
                }
            )
        elif unknown := sorted(set(value) - {LOOKUP_KEY} - LOOKUP_SOURCES[source]):
            problems.append({"field": f"{pointer}.{name}", "message": f"unknown parameter {unknown[0]}"})
    return problems
