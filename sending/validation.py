"""Build the exact Graph request for an outbound message, refusing anything Meta would refuse.

`message_build` turns a validated request (sending.schemas) into a `BuiltMessage`: the
`POST /{phone_number_id}/messages` body, the content and searchable text stored on the Message.
Every problem is collected before raising, so one 422 lists them all, each with its field, the
limit broken and the actual value. Limits come from waba.meta; interactive objects go through
messaging.interactive, the one place that knows them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from messaging.interactive import interactive_problems
from sending.errors import MessageInvalid, RecipientInvalid
from sending.schemas import (
    MediaIn,
    MessageContentIn,
    TemplateIn,
    TemplateParameter,
    TemplateParametersIn,
)
from waba import meta
from waba.models import MessageTemplate
from waba.validation import PhoneNumberInvalid, phone_number_normalise


@dataclass(frozen=True)
class BuiltMessage:
    type: str
    payload: dict[str, Any]  # the Graph request body, biz_opaque_callback_data added when queued
    content: dict[str, Any]  # what the message carried, as stored on Message.content
    body: str  # searchable text
    context_wamid: str = ""


def problem(
    field: str, message: str, kind: str = "invalid", limit: int | None = None, actual: int | None = None
) -> dict[str, Any]:
    return {"field": field, "kind": kind, "limit": limit, "actual": actual, "message": message}


def recipient_normalise(raw: str, *, field: str = "to") -> str:
    """The WhatsApp id (E.164 digits, no '+') of a number a person typed; RecipientInvalid otherwise.

    The number must be complete and of a possible length for its country code; it need not be one
    libphonenumber knows as assigned (Meta's +1 555 01xx test numbers, new ranges are not). The
    error names `field` and what is wrong (`kind`: required, not_a_number, unknown_country_code,
    too_short, too_long, invalid_length).
    """
    text = (raw or "").strip()
    if not text:
        raise RecipientInvalid("A recipient phone number is required.", details=[problem(field, "required", "required")])
    try:
        return phone_number_normalise(text, possible_only=True).removeprefix("+")
    except PhoneNumberInvalid as invalid:
        raise RecipientInvalid(
            f"The recipient ({field}) {text!r} is not a possible phone number: {invalid}. Write it in "
            "international format with its country code, e.g. +4915112345678.",
            details=[problem(field, str(invalid), invalid.reason)],
        ) from None


def message_build(
    *, spec: MessageContentIn, to_wa_id: str, template: MessageTemplate | None = None
) -> BuiltMessage:
    """The Graph request for `spec` to `to_wa_id`; `template` is the approved template a template send names."""
    problems: list[dict[str, Any]] = []
    message_type = spec.type
    present = [name for name in _CONTENT_BUILDERS if getattr(spec, name) is not None]
    for other in present:
        if other != message_type:
            problems.append(problem(other, f"only the {message_type!r} object may be given for type {message_type!r}"))
    content_in = getattr(spec, message_type)
    if content_in is None:
        problems.append(problem(message_type, f"required for type {message_type!r}", "required"))
        raise MessageInvalid(problems)
    content, body = _CONTENT_BUILDERS[message_type](content_in, message_type, template, problems)
    context_wamid = ""
    if spec.context is not None:
        context_wamid = spec.context.message_id.strip()
        if not context_wamid:
            problems.append(problem("context.message_id", "must not be empty", "required"))
    if problems:
        raise MessageInvalid(problems)
    return built_message(to_wa_id=to_wa_id, message_type=message_type, content=content, body=body, context_wamid=context_wamid)


def built_message(
    *, to_wa_id: str, message_type: str, content: dict[str, Any], body: str, context_wamid: str = ""
) -> BuiltMessage:
    """Wrap a validated content object in the Graph request envelope."""
    payload: dict[str, Any] = {
        "messaging_product": meta.MESSAGING_PRODUCT,
        "recipient_type": "individual",
        "to": to_wa_id,
        "type": message_type,
        message_type: content,
    }
    if context_wamid:
        payload["context"] = {"message_id": context_wamid}
    return BuiltMessage(type=message_type, payload=payload, content=content, body=body, context_wamid=context_wamid)


# --- one builder per type: (input, type, template, problems) -> (content, searchable text) ----------


def _text(text: Any, _type: str, _template: Any, problems: list[dict[str, Any]]) -> tuple[dict, str]:
    _check_text(problems, "text.body", text.body, meta.TEXT_MESSAGE_MAX_CHARS)
    return {"body": text.body, "preview_url": text.preview_url}, text.body


def _media(media: MediaIn, media_type: str, _template: Any, problems: list[dict[str, Any]]) -> tuple[dict, str]:
    if bool(media.id) == bool(media.link):
        problems.append(problem(f"{media_type}.id", "exactly one of id or link is required", "required"))
    if media.link and not re.match(r"^https?://\S+$", media.link):
        problems.append(problem(f"{media_type}.link", "must be an http(s) URL"))
    content: dict[str, Any] = {"id": media.id} if media.id else {"link": media.link}
    if media.caption is not None:
        if media_type not in meta.MEDIA_CAPTIONED_TYPES:
            problems.append(problem(f"{media_type}.caption", f"{media_type} messages cannot carry a caption"))
        else:
            _check_text(problems, f"{media_type}.caption", media.caption, meta.MEDIA_CAPTION_MAX_CHARS)
            content["caption"] = media.caption
    if media.filename is not None:
        if media_type != "document":
            problems.append(problem(f"{media_type}.filename", "only documents carry a filename"))
        else:
            content["filename"] = media.filename
    return content, media.caption or ""


def _location(location: Any, _type: str, _template: Any, problems: list[dict[str, Any]]) -> tuple[dict, str]:
    if not -90 <= location.latitude <= 90:
        problems.append(problem("location.latitude", "must be between -90 and 90"))
    if not -180 <= location.longitude <= 180:
        problems.append(problem("location.longitude", "must be between -180 and 180"))
    content = {"latitude": location.latitude, "longitude": location.longitude}
    for key in ("name", "address"):
        if getattr(location, key):
            content[key] = getattr(location, key)
    return content, " ".join(filter(None, [location.name, location.address]))


def _reaction(reaction: Any, _type: str, _template: Any, problems: list[dict[str, Any]]) -> tuple[dict, str]:
    if not reaction.message_id.strip():
        problems.append(problem("reaction.message_id", "must not be empty", "required"))
    if len(reaction.emoji) > 16:  # one emoji, possibly a multi-code-point sequence
        problems.append(problem("reaction.emoji", "must be a single emoji (or empty to remove)", "too_long"))
    return {"message_id": reaction.message_id, "emoji": reaction.emoji}, reaction.emoji


def _interactive(interactive: dict, _type: str, _template: Any, problems: list[dict[str, Any]]) -> tuple[dict, str]:
    for found in interactive_problems(interactive):
        details = found.as_dict()
        details["field"] = "interactive." + details["field"] if details["field"] else "interactive"
        problems.append(details)
    body = interactive.get("body") if isinstance(interactive, dict) else None
    return dict(interactive), str((body or {}).get("text") or "") if isinstance(body, dict) else ""


def _template(
    template_in: TemplateIn, _type: str, template: MessageTemplate | None, problems: list[dict[str, Any]]
) -> tuple[dict, str]:
    if template is None:  # the service looks it up (and refuses unknown or unapproved ones) first
        raise ValueError("a template send needs the MessageTemplate it names")
    return template_content_build(template=template, parameters=template_in, problems=problems, prefix="template")


_CONTENT_BUILDERS: dict[str, Callable[..., tuple[dict, str]]] = {
    "text": _text,
    "template": _template,
    "interactive": _interactive,
    **dict.fromkeys(meta.MEDIA_MESSAGE_TYPES, _media),
    "location": _location,
    "reaction": _reaction,
}


def _check_text(problems: list[dict[str, Any]], field: str, value: str, limit: int) -> None:
    if not value.strip():
        problems.append(problem(field, "must not be empty", "required"))
    elif len(value) > limit:
        problems.append(
            problem(field, f"at most {limit} characters allowed, got {len(value)}", "too_long", limit, len(value))
        )


# --- templates --------------------------------------------------------------------------------------


def template_content_build(
    *, template: MessageTemplate, parameters: TemplateParametersIn, problems: list[dict[str, Any]], prefix: str
) -> tuple[dict[str, Any], str]:
    """Meta's `template` object for an approved template; parameter counts must match it exactly.

    The counts are the template's own (`variable_count` for the body, `parameter_counts` for the
    header and buttons, kept by the waba app from the components). Problems are appended to
    `problems` with fields under `prefix` (e.g. "recipients[3]").
    """
    components = _components_by_type(template)
    counts = template.parameter_counts or {}
    built: list[dict[str, Any]] = []

    header_format = str((components.get("HEADER") or {}).get("format") or "TEXT").upper()
    header_params = _parameters(parameters.header_parameters, f"{prefix}.header_parameters", problems)
    _check_count(problems, f"{prefix}.header_parameters", len(header_params), counts.get("header", 0), "header")
    if header_format in meta.TEMPLATE_HEADER_MEDIA_FORMATS and header_params:
        kind = header_format.lower()
        if header_params[0].get("type") != kind or not isinstance(header_params[0].get(kind), dict):
            example = f'{{"type": "{kind}", "{kind}": {{"link": ...}}}}'
            problems.append(problem(f"{prefix}.header_parameters[0]", f"the template's header needs {example}"))
    if header_params:
        built.append({"type": "header", "parameters": header_params})

    body_params = _parameters(parameters.body_parameters, f"{prefix}.body_parameters", problems)
    _check_count(problems, f"{prefix}.body_parameters", len(body_params), template.variable_count, "body")
    if body_params:
        built.append({"type": "body", "parameters": body_params})

    template_buttons = (components.get("BUTTONS") or {}).get("buttons") or []
    needed = {int(index): count for index, count in (counts.get("buttons") or {}).items()}
    given = {button.index for button in parameters.buttons}
    for index in sorted(set(needed) - given):
        problems.append(problem(f"{prefix}.buttons", f"button {index} needs {needed[index]} parameter(s)", "required"))
    for position, button_in in enumerate(parameters.buttons):
        field = f"{prefix}.buttons[{position}]"
        if button_in.index >= len(template_buttons):
            problems.append(problem(f"{field}.index", f"the template has {len(template_buttons)} buttons"))
            continue
        expected_type = str(template_buttons[button_in.index].get("type", "")).lower()
        if expected_type and expected_type != button_in.sub_type:
            problems.append(problem(f"{field}.sub_type", f"button {button_in.index} is a {expected_type} button"))
        button_params = _parameters(button_in.parameters, f"{field}.parameters", problems)
        if button_in.sub_type != "quick_reply" or len(button_params) > 1:  # a quick reply's payload is optional
            expected = needed.get(button_in.index, 0) if button_in.sub_type != "quick_reply" else 1
            _check_count(problems, f"{field}.parameters", len(button_params), expected, f"button {button_in.index}")
        built.append(
            {"type": "button", "sub_type": button_in.sub_type, "index": str(button_in.index), "parameters": button_params}
        )

    content: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if built:
        content["components"] = built
    texts = [str(p.get("text", "")) for p in body_params]
    return content, _render((components.get("BODY") or {}).get("text") or template.name, texts)


def _components_by_type(template: MessageTemplate) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for component in template.components or []:
        if isinstance(component, dict) and component.get("type"):
            found.setdefault(str(component["type"]).upper(), component)
    return found


def _parameters(values: list[TemplateParameter], field: str, problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    built = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            if not value.strip():
                problems.append(problem(f"{field}[{index}]", "must not be empty", "required"))
            built.append({"type": "text", "text": value})
        elif not value.get("type"):
            problems.append(problem(f"{field}[{index}]", 'a parameter object needs a "type"', "required"))
            built.append(dict(value))
        else:
            built.append(dict(value))
    return built


def _check_count(problems: list[dict[str, Any]], field: str, actual: int, expected: int, what: str) -> None:
    if actual != expected:
        problems.append(
            problem(
                field,
                f"the template's {what} takes exactly {expected} parameter{'s' if expected != 1 else ''}, got {actual}",
                "count",
                expected,
                actual,
            )
        )


def _render(text: str, values: list[str]) -> str:
    def fill(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return values[index] if 0 <= index < len(values) else match.group(0)

    return meta.TEMPLATE_BODY_VARIABLE_PATTERN.sub(fill, text)
