"""Template rules: what creation refuses at once, what review rejects later, what a send must match."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from graph_simulator import constants as limits
from graph_simulator.errors import GraphError
from graph_simulator.models import Template


@dataclass(frozen=True)
class TemplateRequest:
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    parameter_format: str


def template_request_parse(params: dict[str, Any]) -> TemplateRequest:
    """The synchronous checks of `POST /{waba_id}/message_templates` (error 100 when they fail)."""
    name, language, category = params.get("name"), params.get("language"), params.get("category")
    for key, value in (("name", name), ("language", language), ("category", category)):
        if not isinstance(value, str) or not value:
            raise GraphError(
                100, f"The parameter {key} is required.", message=f"(#100) The parameter {key} is required."
            )
    name, language, category = str(name), str(language), str(category)
    if len(name) > limits.TEMPLATE_NAME_MAX:
        raise GraphError(100, f"Template name must be at most {limits.TEMPLATE_NAME_MAX} characters.")
    if category.upper() not in limits.TEMPLATE_CATEGORIES:
        raise GraphError(100, f"Param category must be one of {list(limits.TEMPLATE_CATEGORIES)}.")
    components = params.get("components")
    if isinstance(components, str):
        try:
            components = json.loads(components)
        except ValueError:
            components = None
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise GraphError(100, "The parameter components is required and must be a list of objects.")
    parameter_format = str(params.get("parameter_format") or "POSITIONAL").upper()
    if parameter_format not in ("POSITIONAL", "NAMED"):
        raise GraphError(100, "Param parameter_format must be POSITIONAL or NAMED.")
    return TemplateRequest(name, language, category.upper(), components, parameter_format)


def template_review(template: Template, rejections: dict[str, str]) -> tuple[str, str | None]:
    """(status, rejection reason) that the simulated review reaches for this template."""
    if not limits.TEMPLATE_NAME_PATTERN.match(template.name):
        return "REJECTED", "INVALID_FORMAT"
    body = template.component("BODY")
    text = body.get("text") if body else None
    if not isinstance(text, str) or not text.strip() or len(text) > limits.TEMPLATE_BODY_MAX:
        return "REJECTED", "INVALID_FORMAT"
    if not _variables_well_formed(text, template.parameter_format):
        return "REJECTED", "INVALID_FORMAT"
    header = template.component("HEADER")
    if header and str(header.get("format", "TEXT")).upper() == "TEXT":
        header_text = header.get("text")
        if not isinstance(header_text, str) or len(header_text) > limits.TEMPLATE_HEADER_TEXT_MAX:
            return "REJECTED", "INVALID_FORMAT"
        if template.variable_count("HEADER") > 1 or not _variables_well_formed(
            header_text, template.parameter_format
        ):
            return "REJECTED", "INVALID_FORMAT"
    footer = template.component("FOOTER")
    if footer and (
        not isinstance(footer.get("text"), str) or len(footer["text"]) > limits.TEMPLATE_FOOTER_MAX
    ):
        return "REJECTED", "INVALID_FORMAT"
    if template.name in rejections:
        return "REJECTED", rejections[template.name]
    return "APPROVED", None


def _variables_well_formed(text: str, parameter_format: str) -> bool:
    """Positional variables must be exactly 1..n; named ones lowercase identifiers."""
    found = limits.ANY_VARIABLE.findall(text)
    if parameter_format == "NAMED":
        return all(limits.NAMED_VARIABLE.fullmatch("{{" + item + "}}") for item in found)
    if not all(item.isdigit() for item in found):
        return False
    numbers = {int(item) for item in found}
    return numbers == set(range(1, len(numbers) + 1))


_STATUS_ERRORS = {"PAUSED": 132015, "DISABLED": 132016}


def template_send_check(
    template: Template | None, name: str, language: str, components: list[dict[str, Any]]
) -> Template:
    """The approved template a send names, or the error Meta answers when the send does not match it."""
    if template is None:
        raise GraphError(132001, f"template name ({name}) does not exist in {language}")
    if template.status in _STATUS_ERRORS:
        raise GraphError(_STATUS_ERRORS[template.status], f"Template {name} is {template.status.lower()}.")
    if template.status != "APPROVED":
        raise GraphError(
            132001, f"template name ({name}) does not exist in {language} (status {template.status})"
        )
    sent = {str(c.get("type", "")).upper(): c.get("parameters", []) for c in components}
    _count_check("body", len(sent.get("BODY", [])), template.variable_count("BODY"))
    header = template.component("HEADER")
    if header is None:
        return template
    header_format = str(header.get("format", "TEXT")).upper()
    if header_format == "TEXT":
        _count_check("header", len(sent.get("HEADER", [])), template.variable_count("HEADER"))
    elif header_format in ("IMAGE", "VIDEO", "DOCUMENT", "LOCATION"):
        parameters = sent.get("HEADER", [])
        if len(parameters) != 1 or str(parameters[0].get("type", "")).upper() != header_format:
            raise GraphError(132012, f"header: expected one {header_format.lower()} parameter.")
    return template


def _count_check(component: str, sent: int, expected: int) -> None:
    if sent != expected:
        raise GraphError(
            132000,
            f"{component}: number of localizable_params ({sent}) does not match the expected "
            f"number of params ({expected})",
        )
