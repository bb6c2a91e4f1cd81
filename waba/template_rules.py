"""Meta's template rules, checked offline so a template Meta would refuse never leaves.

`template_errors` returns one `{"field", "message", "type"}` per problem, `field` being a path into
the template as submitted (`components[1].text`, `components[3].buttons[0].url`), so a form or an
API client can show each error next to its input. The numbers live in `waba.meta`.
"""

from __future__ import annotations

import re
from typing import Any

from waba import meta

VARIABLE = meta.TEMPLATE_ANY_VARIABLE_PATTERN
ADJACENT_VARIABLES = re.compile(r"\}\}\s*\{\{")
NAMED = "NAMED"
POSITIONAL = "POSITIONAL"


class _Errors(list[dict[str, str]]):
    def add(self, field: str, message: str, kind: str = "value_error") -> None:
        self.append({"field": field, "message": message, "type": kind})


def variables(text: Any) -> list[str]:
    """Distinct `{{...}}` placeholders of a text, in order of first appearance."""
    if not isinstance(text, str):
        return []
    return list(dict.fromkeys(VARIABLE.findall(text)))


def parameter_format(components: Any) -> str:
    """NAMED when the body or header uses `{{name}}` variables, else POSITIONAL."""
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and any(not v.isdigit() for v in variables(component.get("text"))):
            return NAMED
    return POSITIONAL


def template_errors(*, name: Any, language: Any, category: Any, components: Any) -> list[dict[str, str]]:
    """Every rule of META.md a template breaks (empty when Meta would accept it for review)."""
    errors = _Errors()
    if not isinstance(name, str) or not name:
        errors.add("name", "A name is required.", "missing")
    elif len(name) > meta.TEMPLATE_NAME_MAX_CHARS:
        errors.add("name", f"At most {meta.TEMPLATE_NAME_MAX_CHARS} characters.")
    elif not meta.TEMPLATE_NAME_PATTERN.match(name):
        errors.add("name", "Use lowercase letters, digits and underscores only.")
    if language not in meta.TEMPLATE_LANGUAGES:
        errors.add("language", "Not a language Meta supports for templates (e.g. en_US, de, pt_BR).")
    category = str(category or "").upper()
    if category not in meta.TemplateCategory.__members__:
        errors.add("category", f"Must be one of {', '.join(meta.TemplateCategory)}.")
    errors.extend(components_errors(components=components, category=category))
    return errors


def components_errors(*, components: Any, category: str) -> list[dict[str, str]]:
    """The component rules alone (see `template_errors`)."""
    errors = _Errors()
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        errors.add("components", "Give a list of components.")
        return errors
    kinds = [str(c.get("type", "")).upper() for c in components]
    for position, kind in enumerate(kinds):
        if kind not in meta.TemplateComponentType.__members__:
            errors.add(
                f"components[{position}].type", f"Must be one of {', '.join(meta.TemplateComponentType)}."
            )
        elif kinds.index(kind) != position:
            errors.add(f"components[{position}].type", f"Only one {kind} component is allowed.")
    authentication = category == meta.TemplateCategory.AUTHENTICATION
    if "BODY" not in kinds:
        errors.add("components", "A BODY component is required.", "missing")
    for position, component in enumerate(components):
        kind = kinds[position]
        if kinds.index(kind) != position:
            continue
        path = f"components[{position}]"
        if kind == "BODY" and not authentication:
            _body_check(errors, path, component)
        elif kind == "HEADER":
            _header_check(errors, path, component)
        elif kind == "FOOTER" and not authentication:
            _footer_check(errors, path, component)
        elif kind == "BUTTONS":
            _buttons_check(errors, path, component, authentication=authentication)
    return errors


def _body_check(errors: _Errors, path: str, body: dict[str, Any]) -> None:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.add(f"{path}.text", "The body text is required.", "missing")
        return
    if len(text) > meta.TEMPLATE_BODY_MAX_CHARS:
        errors.add(f"{path}.text", f"At most {meta.TEMPLATE_BODY_MAX_CHARS} characters.")
        return
    found = variables(text)
    if not found:
        return
    if not _variables_check(errors, f"{path}.text", found):
        return
    stripped = text.strip()
    if stripped.startswith("{{") or stripped.endswith("}}"):
        errors.add(f"{path}.text", "A variable cannot be the first or last thing in the body.")
    elif ADJACENT_VARIABLES.search(text):
        errors.add(f"{path}.text", "Put words between variables: two variables cannot be next to each other.")
    _samples_check(
        errors, path, body.get("example"), found, positional="body_text", named="body_text_named_params"
    )


def _header_check(errors: _Errors, path: str, header: dict[str, Any]) -> None:
    header_format = str(header.get("format", "")).upper()
    if header_format not in meta.TEMPLATE_HEADER_FORMATS:
        errors.add(f"{path}.format", f"Must be one of {', '.join(sorted(meta.TEMPLATE_HEADER_FORMATS))}.")
        return
    example = header.get("example")
    if header_format == "TEXT":
        text = header.get("text")
        if not isinstance(text, str) or not text.strip():
            errors.add(f"{path}.text", "A text header needs text.", "missing")
            return
        if len(text) > meta.TEMPLATE_HEADER_TEXT_MAX_CHARS:
            errors.add(f"{path}.text", f"At most {meta.TEMPLATE_HEADER_TEXT_MAX_CHARS} characters.")
            return
        found = variables(text)
        if len(found) > meta.TEMPLATE_HEADER_MAX_VARIABLES:
            errors.add(f"{path}.text", "A header may hold one variable.")
        elif found and _variables_check(errors, f"{path}.text", found):
            _samples_check(
                errors, path, example, found, positional="header_text", named="header_text_named_params"
            )
    elif header_format in ("IMAGE", "VIDEO", "DOCUMENT"):
        handles = example.get("header_handle") if isinstance(example, dict) else None
        if not isinstance(handles, list) or not handles or not all(isinstance(h, str) and h for h in handles):
            errors.add(
                f"{path}.example.header_handle",
                f"A {header_format.lower()} header needs a sample: upload one and give its handle.",
                "missing",
            )


def _footer_check(errors: _Errors, path: str, footer: dict[str, Any]) -> None:
    text = footer.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.add(f"{path}.text", "A footer needs text.", "missing")
    elif len(text) > meta.TEMPLATE_FOOTER_MAX_CHARS:
        errors.add(f"{path}.text", f"At most {meta.TEMPLATE_FOOTER_MAX_CHARS} characters.")
    elif variables(text):
        errors.add(f"{path}.text", "A footer cannot hold variables.")


def _buttons_check(errors: _Errors, path: str, component: dict[str, Any], *, authentication: bool) -> None:
    items = component.get("buttons")
    if not isinstance(items, list) or not 1 <= len(items) <= meta.TEMPLATE_BUTTONS_MAX:
        errors.add(f"{path}.buttons", f"Give 1 to {meta.TEMPLATE_BUTTONS_MAX} buttons.")
        return
    seen: dict[str, int] = {}
    for position, button in enumerate(items):
        where = f"{path}.buttons[{position}]"
        button_type = str(button.get("type", "")).upper() if isinstance(button, dict) else ""
        if button_type not in meta.TEMPLATE_BUTTON_TYPES:
            errors.add(f"{where}.type", f"Must be one of {', '.join(sorted(meta.TEMPLATE_BUTTON_TYPES))}.")
            continue
        seen[button_type] = seen.get(button_type, 0) + 1
        most = meta.TEMPLATE_BUTTON_TYPE_MAX.get(button_type)
        if most is not None and seen[button_type] > most:
            errors.add(f"{where}.type", f"At most {most} {button_type} button{'s' if most > 1 else ''}.")
            continue
        if button_type in ("OTP", "COPY_CODE") and authentication:
            continue
        if button_type != "COPY_CODE":
            text = button.get("text")
            if not isinstance(text, str) or not text.strip():
                errors.add(f"{where}.text", "The button needs a label.", "missing")
            elif len(text) > meta.TEMPLATE_BUTTON_TEXT_MAX_CHARS:
                errors.add(f"{where}.text", f"At most {meta.TEMPLATE_BUTTON_TEXT_MAX_CHARS} characters.")
        if button_type == "URL":
            _url_button_check(errors, where, button)
        elif button_type == "PHONE_NUMBER":
            phone = str(button.get("phone_number") or "")
            if not re.fullmatch(r"\+?[0-9]{4,19}", phone):
                errors.add(
                    f"{where}.phone_number", "Give the phone number with its country code, e.g. +15550100001."
                )
        elif button_type == "COPY_CODE":
            example = button.get("example")
            if not isinstance(example, str) or not example.strip():
                errors.add(f"{where}.example", "A copy-code button needs a sample code.", "missing")
            elif len(example) > meta.TEMPLATE_COPY_CODE_EXAMPLE_MAX_CHARS:
                errors.add(
                    f"{where}.example", f"At most {meta.TEMPLATE_COPY_CODE_EXAMPLE_MAX_CHARS} characters."
                )
        elif button_type == "FLOW" and not any(
            button.get(key) for key in ("flow_id", "flow_name", "flow_json")
        ):
            errors.add(f"{where}.flow_id", "A flow button needs the flow's id.", "missing")


def _url_button_check(errors: _Errors, where: str, button: dict[str, Any]) -> None:
    url = button.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        errors.add(f"{where}.url", "A URL button needs an http(s) URL.")
        return
    if len(url) > meta.TEMPLATE_BUTTON_URL_MAX_CHARS:
        errors.add(f"{where}.url", f"At most {meta.TEMPLATE_BUTTON_URL_MAX_CHARS} characters.")
        return
    found = VARIABLE.findall(url)
    if not found:
        return
    if len(found) > 1 or found[0] != "1" or not url.endswith("}}"):
        errors.add(f"{where}.url", "A URL may hold one variable, {{1}}, at its end.")
        return
    example = button.get("example")
    sample = example[0] if isinstance(example, list) and example else example
    if not isinstance(sample, str) or not sample.startswith(("https://", "http://")):
        errors.add(f"{where}.example", "Give a full sample URL for the variable.", "missing")


def _variables_check(errors: _Errors, field: str, found: list[str]) -> bool:
    named = [v for v in found if not v.isdigit()]
    if named and len(named) != len(found):
        errors.add(field, "Use either numbered variables ({{1}}) or named ones ({{name}}), not both.")
        return False
    if named:
        bad = [v for v in named if not meta.TEMPLATE_NAMED_VARIABLE_PATTERN.match(v)]
        if bad:
            errors.add(
                field, f"Named variables use lowercase letters, digits and underscores: {{{{{bad[0]}}}}}."
            )
            return False
        return True
    if sorted(int(v) for v in found) != list(range(1, len(found) + 1)):
        errors.add(field, "Variables must be {{1}}, {{2}} ... without gaps, starting at 1.")
        return False
    return True


def _samples_check(
    errors: _Errors, path: str, example: Any, found: list[str], *, positional: str, named: str
) -> None:
    """Meta needs a sample for every variable: `example.<positional>` or `example.<named>`."""
    example = example if isinstance(example, dict) else {}
    if found[0].isdigit():
        samples = example.get(positional)
        if samples and isinstance(samples, list) and isinstance(samples[0], list):
            samples = samples[0]  # body_text is [[...]], header_text is [...]
        given = samples if isinstance(samples, list) else []
        if len(given) < len(found) or not all(isinstance(s, str) and s.strip() for s in given[: len(found)]):
            errors.add(
                f"{path}.example.{positional}",
                f"Give a sample value for each variable ({len(found)} needed).",
                "missing",
            )
        return
    params = example.get(named)
    given_names = (
        {
            str(p.get("param_name"))
            for p in params or []
            if isinstance(p, dict) and isinstance(p.get("example"), str) and p["example"].strip()
        }
        if isinstance(params, list)
        else set()
    )
    missing = [v for v in found if v not in given_names]
    if missing:
        errors.add(f"{path}.example.{named}", f"Give a sample value for {{{{{missing[0]}}}}}.", "missing")
