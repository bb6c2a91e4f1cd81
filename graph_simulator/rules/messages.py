"""What `POST /{phone_number_id}/messages` accepts, checked the way Meta checks it.

`message_validate` either returns an `OutboundMessage` or raises a `GraphError` with Meta's code:
100 for a missing or malformed top-level parameter, 131008 for a missing nested one, 131009 for a
value outside Meta's limits. Template and flow checks that need state live in the endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph_simulator import constants as limits
from graph_simulator.errors import GraphError, invalid_value, missing_parameter

_TO = re.compile(r"^\+?[\d\s\-()]{5,30}$")
_MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_CAPTIONED = ("image", "video", "document")


@dataclass(frozen=True)
class OutboundMessage:
    to: str
    wa_id: str
    type: str
    biz_opaque_callback_data: str | None = None
    template_name: str | None = None
    template_language: str | None = None
    template_components: list[dict[str, Any]] = field(default_factory=list)
    flow_id: str | None = None
    flow_name: str | None = None


def parameter_required(name: str) -> GraphError:
    return GraphError(
        100, f"The parameter {name} is required.", message=f"(#100) The parameter {name} is required."
    )


def message_validate(payload: Any) -> OutboundMessage:
    if not isinstance(payload, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    if "messaging_product" not in payload:
        raise parameter_required("messaging_product")
    if payload["messaging_product"] != "whatsapp":
        raise GraphError(
            100,
            "Param messaging_product must be 'whatsapp'.",
            message="(#100) Param messaging_product must be 'whatsapp'",
        )
    recipient_type = payload.get("recipient_type", "individual")
    if recipient_type not in ("individual", "group"):
        raise GraphError(100, "Param recipient_type must be 'individual'.")
    to = payload.get("to")
    if to is None or to == "":
        raise parameter_required("to")
    if not isinstance(to, str) or not _TO.match(to):
        raise GraphError(100, f"Invalid 'to' parameter: {to!r} is not a phone number.")
    message_type = payload.get("type", "text")
    rule = TYPE_RULES.get(message_type)
    if rule is None:
        raise GraphError(
            100,
            f"Param type must be one of {sorted(TYPE_RULES)}.",
            message=f"(#100) Param type must be one of {{{', '.join(sorted(TYPE_RULES))}}}",
        )
    content = payload.get(message_type)
    if not isinstance(content, (dict, list)):
        raise parameter_required(message_type)
    _context_check(payload.get("context"))
    opaque = payload.get("biz_opaque_callback_data")
    if opaque is not None and (
        not isinstance(opaque, str) or len(opaque) > limits.BIZ_OPAQUE_CALLBACK_DATA_MAX
    ):
        raise invalid_value(
            "biz_opaque_callback_data must be a string of at most "
            f"{limits.BIZ_OPAQUE_CALLBACK_DATA_MAX} characters."
        )
    extra = rule(content) or {}
    return OutboundMessage(
        to=to, wa_id=re.sub(r"\D", "", to), type=message_type, biz_opaque_callback_data=opaque, **extra
    )


def _context_check(context: Any) -> None:
    if context is None:
        return
    if (
        not isinstance(context, dict)
        or not isinstance(context.get("message_id"), str)
        or not context["message_id"]
    ):
        raise missing_parameter("context.message_id is required when context is given.")


def _text_value(
    container: dict[str, Any], key: str, path: str, maximum: int, *, required: bool = True
) -> str | None:
    value = container.get(key)
    if value is None or value == "":
        if required:
            raise missing_parameter(f"Parameter '{path}' is required.")
        return None
    if not isinstance(value, str):
        raise invalid_value(f"Parameter '{path}' must be a string.")
    if len(value) > maximum:
        raise invalid_value(f"Parameter '{path}' must be at most {maximum} characters long.")
    return value


def _require_object(container: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = container.get(key)
    if not isinstance(value, dict):
        raise missing_parameter(f"Parameter '{path}' is required.")
    return value


# --- one rule per type -------------------------------------------------------------------------


def _text(content: dict[str, Any]) -> None:
    body = content.get("body")
    if not isinstance(body, str) or not body:
        raise missing_parameter("Parameter 'text.body' is required.")
    if len(body) > limits.TEXT_BODY_MAX:
        raise GraphError(
            100,
            f"Param text['body'] must be at most {limits.TEXT_BODY_MAX} characters long.",
            message=f"(#100) Param text['body'] must be at most {limits.TEXT_BODY_MAX} characters long.",
        )
    if "preview_url" in content and not isinstance(content["preview_url"], bool):
        raise invalid_value("Parameter 'text.preview_url' must be a boolean.")


def _media(media_type: str) -> Callable[[dict[str, Any]], None]:
    def rule(content: dict[str, Any]) -> None:
        has_id, has_link = bool(content.get("id")), bool(content.get("link"))
        if has_id == has_link:
            raise missing_parameter(f"Exactly one of '{media_type}.id' or '{media_type}.link' is required.")
        if has_link and not str(content["link"]).startswith(("http://", "https://")):
            raise invalid_value(f"Parameter '{media_type}.link' must be an http(s) URL.")
        if "caption" in content:
            if media_type not in _CAPTIONED:
                raise invalid_value(f"Parameter '{media_type}.caption' is not supported for {media_type}.")
            _text_value(content, "caption", f"{media_type}.caption", limits.CAPTION_MAX, required=False)
        if "filename" in content and media_type != "document":
            raise invalid_value(f"Parameter '{media_type}.filename' is only supported for documents.")

    return rule


def _location(content: dict[str, Any]) -> None:
    for key in ("latitude", "longitude"):
        value = content.get(key)
        if value is None:
            raise missing_parameter(f"Parameter 'location.{key}' is required.")
        try:
            float(value)
        except (TypeError, ValueError):
            raise invalid_value(f"Parameter 'location.{key}' must be a number.") from None


def _contacts(content: Any) -> None:
    if not isinstance(content, list) or not content:
        raise missing_parameter("Parameter 'contacts' must be a non-empty list.")
    for index, contact in enumerate(content):
        name = contact.get("name") if isinstance(contact, dict) else None
        if not isinstance(name, dict) or not name.get("formatted_name"):
            raise missing_parameter(f"Parameter 'contacts[{index}].name.formatted_name' is required.")


def _reaction(content: dict[str, Any]) -> None:
    if not content.get("message_id"):
        raise missing_parameter("Parameter 'reaction.message_id' is required.")
    if "emoji" not in content or not isinstance(content["emoji"], str):
        raise missing_parameter("Parameter 'reaction.emoji' is required (empty string removes the reaction).")


def _template(content: dict[str, Any]) -> dict[str, Any]:
    name = content.get("name")
    if not isinstance(name, str) or not name:
        raise missing_parameter("Parameter 'template.name' is required.")
    language = content.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    if not isinstance(code, str) or not code:
        raise missing_parameter("Parameter 'template.language.code' is required.")
    components = content.get("components", [])
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise invalid_value("Parameter 'template.components' must be a list of objects.")
    for index, component in enumerate(components):
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list) or not all(
            isinstance(p, dict) and p.get("type") for p in parameters
        ):
            raise missing_parameter(f"Each of 'template.components[{index}].parameters' needs a 'type'.")
    return {"template_name": name, "template_language": code, "template_components": components}


def _interactive(content: dict[str, Any]) -> dict[str, Any] | None:
    kind = content.get("type")
    if not isinstance(kind, str) or not kind:
        raise missing_parameter("Parameter 'interactive.type' is required.")
    rule = INTERACTIVE_RULES.get(kind)
    if rule is None:
        raise invalid_value(f"Parameter 'interactive.type' has an unsupported value {kind!r}.")
    _interactive_frame(content, body_required=kind in ("button", "list", "flow", "cta_url"))
    return rule(_require_object(content, "action", "interactive.action"))


def _interactive_frame(content: dict[str, Any], *, body_required: bool) -> None:
    body = content.get("body")
    if body is None and body_required:
        raise missing_parameter("Parameter 'interactive.body' is required.")
    if body is not None:
        if not isinstance(body, dict):
            raise invalid_value("Parameter 'interactive.body' must be an object.")
        _text_value(
            body, "text", "interactive.body.text", limits.INTERACTIVE_BODY_MAX, required=body_required
        )
    header = content.get("header")
    if header is not None:
        if not isinstance(header, dict) or not header.get("type"):
            raise missing_parameter("Parameter 'interactive.header.type' is required.")
        if header["type"] == "text":
            _text_value(header, "text", "interactive.header.text", limits.INTERACTIVE_HEADER_MAX)
    footer = content.get("footer")
    if footer is not None:
        if not isinstance(footer, dict):
            raise invalid_value("Parameter 'interactive.footer' must be an object.")
        _text_value(footer, "text", "interactive.footer.text", limits.INTERACTIVE_FOOTER_MAX)


def _reply_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise missing_parameter("Parameter 'interactive.action.buttons' is required.")
    if len(buttons) > limits.REPLY_BUTTONS_MAX:
        raise invalid_value(
            f"Button count invalid. Buttons count should be between 1 and {limits.REPLY_BUTTONS_MAX}."
        )
    seen: set[str] = set()
    for index, button in enumerate(buttons):
        path = f"interactive.action.buttons[{index}]"
        if not isinstance(button, dict) or button.get("type", "reply") != "reply":
            raise invalid_value(f"Parameter '{path}.type' must be 'reply'.")
        reply = _require_object(button, "reply", f"{path}.reply")
        button_id = _text_value(reply, "id", f"{path}.reply.id", limits.REPLY_BUTTON_ID_MAX)
        _text_value(reply, "title", f"{path}.reply.title", limits.REPLY_BUTTON_TITLE_MAX)
        if button_id in seen:
            raise invalid_value(f"Duplicate button id {button_id!r}: button ids must be unique.")
        seen.add(button_id or "")


def _list(action: dict[str, Any]) -> None:
    _text_value(action, "button", "interactive.action.button", limits.LIST_BUTTON_TEXT_MAX)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise missing_parameter("Parameter 'interactive.action.sections' is required.")
    if len(sections) > limits.LIST_SECTIONS_MAX:
        raise invalid_value(f"Too many sections: at most {limits.LIST_SECTIONS_MAX} are allowed.")
    row_ids: set[str] = set()
    for s_index, section in enumerate(sections):
        path = f"interactive.action.sections[{s_index}]"
        if not isinstance(section, dict):
            raise invalid_value(f"Parameter '{path}' must be an object.")
        _text_value(
            section, "title", f"{path}.title", limits.LIST_SECTION_TITLE_MAX, required=len(sections) > 1
        )
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise missing_parameter(f"Parameter '{path}.rows' must be a non-empty list.")
        for r_index, row in enumerate(rows):
            row_path = f"{path}.rows[{r_index}]"
            if not isinstance(row, dict):
                raise invalid_value(f"Parameter '{row_path}' must be an object.")
            row_id = _text_value(row, "id", f"{row_path}.id", limits.LIST_ROW_ID_MAX)
            _text_value(row, "title", f"{row_path}.title", limits.LIST_ROW_TITLE_MAX)
            _text_value(
                row, "description", f"{row_path}.description", limits.LIST_ROW_DESCRIPTION_MAX, required=False
            )
            if row_id in row_ids:
                raise invalid_value(f"Duplicate row id {row_id!r}: row ids must be unique.")
            row_ids.add(row_id or "")
    if len(row_ids) > limits.LIST_ROWS_MAX:
        raise invalid_value(
            f"Too many rows: at most {limits.LIST_ROWS_MAX} rows are allowed across all sections."
        )


def _cta_url(action: dict[str, Any]) -> None:
    if action.get("name") != "cta_url":
        raise invalid_value("Parameter 'interactive.action.name' must be 'cta_url'.")
    parameters = _require_object(action, "parameters", "interactive.action.parameters")
    _text_value(
        parameters,
        "display_text",
        "interactive.action.parameters.display_text",
        limits.CTA_URL_DISPLAY_TEXT_MAX,
    )
    _text_value(parameters, "url", "interactive.action.parameters.url", 2000)


def _flow(action: dict[str, Any]) -> dict[str, Any]:
    if action.get("name") != "flow":
        raise invalid_value("Parameter 'interactive.action.name' must be 'flow'.")
    parameters = _require_object(action, "parameters", "interactive.action.parameters")
    path = "interactive.action.parameters"
    if str(parameters.get("flow_message_version")) != limits.FLOW_MESSAGE_VERSION:
        raise invalid_value(
            f"Parameter '{path}.flow_message_version' must be \"{limits.FLOW_MESSAGE_VERSION}\"."
        )
    _text_value(parameters, "flow_cta", f"{path}.flow_cta", limits.FLOW_CTA_MAX)
    flow_id, flow_name = parameters.get("flow_id"), parameters.get("flow_name")
    if not flow_id and not flow_name:
        raise missing_parameter(f"One of '{path}.flow_id' or '{path}.flow_name' is required.")
    if "flow_token" in parameters and not isinstance(parameters["flow_token"], str):
        raise invalid_value(f"Parameter '{path}.flow_token' must be a string.")
    if parameters.get("mode", "published") not in ("draft", "published"):
        raise invalid_value(f"Parameter '{path}.mode' must be 'draft' or 'published'.")
    flow_action = parameters.get("flow_action", "navigate")
    if flow_action not in ("navigate", "data_exchange"):
        raise invalid_value(f"Parameter '{path}.flow_action' must be 'navigate' or 'data_exchange'.")
    payload = parameters.get("flow_action_payload")
    if payload is not None and not isinstance(payload, dict):
        raise invalid_value(f"Parameter '{path}.flow_action_payload' must be an object.")
    return {"flow_id": str(flow_id) if flow_id else None, "flow_name": flow_name or None}


def _passthrough(action: dict[str, Any]) -> None:
    return None


INTERACTIVE_RULES: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
    "button": _reply_buttons,
    "list": _list,
    "flow": _flow,
    "cta_url": _cta_url,
    "product": _passthrough,
    "product_list": _passthrough,
    "catalog_message": _passthrough,
    "location_request_message": _passthrough,
    "address_message": _passthrough,
    "call_permission_request": _passthrough,
}

TYPE_RULES: dict[str, Callable[[Any], dict[str, Any] | None]] = {
    "text": _text,
    "template": _template,
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "interactive": _interactive,
    **{media_type: _media(media_type) for media_type in _MEDIA_TYPES},
}
