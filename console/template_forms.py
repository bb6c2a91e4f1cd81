"""The template editor's form: Meta's components as labelled fields, and back.

`components_from_form` builds the components Meta takes from the form's values;
`form_initial_from_template` does the reverse for editing; `errors_onto_form` puts each error of
`waba.template_rules` (paths like `components[1].text`) next to the field it is about.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from waba import meta
from waba.template_rules import variables

BUTTON_ROWS = 4
HEADER_FORMATS = [
    ("", "No header"),
    ("TEXT", "Text"),
    ("IMAGE", "Image"),
    ("VIDEO", "Video"),
    ("DOCUMENT", "Document"),
    ("LOCATION", "Location"),
]
BUTTON_TYPES = [
    ("", "No button"),
    ("QUICK_REPLY", "Quick reply"),
    ("URL", "Visit website"),
    ("PHONE_NUMBER", "Call phone number"),
    ("COPY_CODE", "Copy code"),
]
CATEGORIES = [(c.value, c.value.title()) for c in meta.TemplateCategory]
LANGUAGES = sorted(meta.TEMPLATE_LANGUAGES)
PATH = re.compile(r"^components\[(\d+)\](?:\.(\w+))?(?:\[(\d+)\])?(?:\.(\w+))?(?:\.(\w+))?")


class TemplateForm(forms.Form):
    account = forms.TypedChoiceField(label="WhatsApp account", coerce=int)
    name = forms.CharField(
        label="Name",
        max_length=meta.TEMPLATE_NAME_MAX_CHARS,
        help_text="Lowercase letters, digits and underscores, e.g. order_update.",
    )
    language = forms.ChoiceField(
        label="Language", choices=[(code, code) for code in LANGUAGES], initial="en_US"
    )
    category = forms.ChoiceField(label="Category", choices=CATEGORIES, initial="UTILITY")
    header_format = forms.ChoiceField(label="Header", choices=HEADER_FORMATS, required=False)
    header_text = forms.CharField(
        label="Header text",
        required=False,
        max_length=200,
        help_text="Up to 60 characters and one variable, {{1}}.",
    )
    header_sample = forms.CharField(
        label="Header sample",
        required=False,
        help_text="The sample value of the header's variable, or the handle of an uploaded sample for a media header.",
    )
    body_text = forms.CharField(
        label="Body", widget=forms.Textarea(attrs={"rows": 5}), max_length=4000, required=False,
        help_text="Up to 1,024 characters. Variables: {{1}}, {{2}} ... or named, {{first_name}}.",
    )  # fmt: skip
    body_samples = forms.CharField(
        label="Body samples", widget=forms.Textarea(attrs={"rows": 3}), required=False,
        help_text="One sample value per line, in the order the variables appear.",
    )  # fmt: skip
    footer_text = forms.CharField(
        label="Footer", required=False, max_length=200, help_text="Up to 60 characters, no variables."
    )

    def __init__(self, *args: Any, accounts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = accounts  # type: ignore[attr-defined]
        for row in range(BUTTON_ROWS):
            number = row + 1
            self.fields[f"button_{row}_type"] = forms.ChoiceField(
                label=f"Button {number}", choices=BUTTON_TYPES, required=False
            )
            self.fields[f"button_{row}_text"] = forms.CharField(
                label=f"Button {number} label", required=False, max_length=100
            )
            self.fields[f"button_{row}_value"] = forms.CharField(
                label=f"Button {number} URL, phone number or code sample", required=False, max_length=2100
            )
            self.fields[f"button_{row}_sample"] = forms.CharField(
                label=f"Button {number} sample URL", required=False, max_length=2100,
                help_text="A full URL for a URL that ends in {{1}}.",
            )  # fmt: skip

    def button_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"button_{row}_{part}"] for part in ("type", "text", "value", "sample")]
            for row in range(BUTTON_ROWS)
        ]


def components_from_form(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Meta's components from the editor's cleaned values (empty parts left out)."""
    components: list[dict[str, Any]] = []
    header_format = values.get("header_format") or ""
    sample = (values.get("header_sample") or "").strip()
    if header_format == "TEXT":
        header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": values.get("header_text") or ""}
        found = variables(header["text"])
        if found and sample:
            header["example"] = (
                {"header_text": [sample]}
                if found[0].isdigit()
                else {"header_text_named_params": [{"param_name": found[0], "example": sample}]}
            )
        components.append(header)
    elif header_format in ("IMAGE", "VIDEO", "DOCUMENT"):
        header = {"type": "HEADER", "format": header_format}
        if sample:
            header["example"] = {"header_handle": [sample]}
        components.append(header)
    elif header_format == "LOCATION":
        components.append({"type": "HEADER", "format": "LOCATION"})
    body: dict[str, Any] = {"type": "BODY", "text": values.get("body_text") or ""}
    found = variables(body["text"])
    samples = [line.strip() for line in (values.get("body_samples") or "").splitlines() if line.strip()]
    if found and samples:
        if found[0].isdigit():
            body["example"] = {"body_text": [samples]}
        else:
            body["example"] = {
                "body_text_named_params": [
                    {"param_name": n, "example": s} for n, s in zip(found, samples, strict=False)
                ]
            }
    components.append(body)
    if (values.get("footer_text") or "").strip():
        components.append({"type": "FOOTER", "text": values["footer_text"]})
    buttons = [_button(values, row) for row in range(BUTTON_ROWS)]
    buttons = [b for b in buttons if b]
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


def _button(values: dict[str, Any], row: int) -> dict[str, Any] | None:
    kind = values.get(f"button_{row}_type") or ""
    text = values.get(f"button_{row}_text") or ""
    value = (values.get(f"button_{row}_value") or "").strip()
    sample = (values.get(f"button_{row}_sample") or "").strip()
    if kind == "QUICK_REPLY":
        return {"type": kind, "text": text}
    if kind == "URL":
        button: dict[str, Any] = {"type": kind, "text": text, "url": value}
        if sample:
            button["example"] = [sample]
        return button
    if kind == "PHONE_NUMBER":
        return {"type": kind, "text": text, "phone_number": value}
    if kind == "COPY_CODE":
        return {"type": kind, "example": value}
    return None


def form_initial_from_template(
    *, account_id: int, name: str, language: str, category: str, components: Any
) -> dict[str, Any]:
    """The editor's values for stored components (the reverse of `components_from_form`)."""
    initial: dict[str, Any] = {
        "account": account_id,
        "name": name,
        "language": language,
        "category": category,
    }
    for component in components if isinstance(components, list) else []:
        kind = str(component.get("type", "")).upper()
        example = component.get("example") if isinstance(component.get("example"), dict) else {}
        if kind == "HEADER":
            initial["header_format"] = str(component.get("format", "")).upper()
            initial["header_text"] = component.get("text", "")
            samples = example.get("header_text") or example.get("header_handle") or []
            named = example.get("header_text_named_params") or []
            initial["header_sample"] = (
                samples[0] if samples else (named[0].get("example", "") if named else "")
            )
        elif kind == "BODY":
            initial["body_text"] = component.get("text", "")
            positional = example.get("body_text") or [[]]
            named = [p.get("example", "") for p in example.get("body_text_named_params") or []]
            initial["body_samples"] = "\n".join(named or (positional[0] if positional else []))
        elif kind == "FOOTER":
            initial["footer_text"] = component.get("text", "")
        elif kind == "BUTTONS":
            for row, button in enumerate((component.get("buttons") or [])[:BUTTON_ROWS]):
                initial[f"button_{row}_type"] = button.get("type", "")
                initial[f"button_{row}_text"] = button.get("text", "")
                initial[f"button_{row}_value"] = (
                    button.get("url")
                    or button.get("phone_number")
                    or (button.get("example") if button.get("type") == "COPY_CODE" else "")
                )
                example_url = button.get("example") if button.get("type") == "URL" else None
                initial[f"button_{row}_sample"] = (
                    example_url[0] if isinstance(example_url, list) and example_url else ""
                )
    return initial


def errors_onto_form(
    form: TemplateForm, details: list[dict[str, Any]], components: list[dict[str, Any]]
) -> None:
    """Each rule error next to its field; what maps to no field becomes a form-wide error."""
    for detail in details:
        field = _field_for(str(detail.get("field", "")), components)
        message = str(detail.get("message", "Invalid."))
        form.add_error(field if field in form.fields else None, message)


def _field_for(path: str, components: list[dict[str, Any]]) -> str | None:
    if path in ("name", "language", "category"):
        return path
    match = PATH.match(path)
    if not match:
        return None
    index, attribute, button_index, button_attribute, deeper = match.groups()
    kind = str(components[int(index)].get("type", "")).upper() if int(index) < len(components) else ""
    if kind == "HEADER":
        return (
            "header_format"
            if attribute == "format"
            else "header_sample"
            if attribute == "example"
            else "header_text"
        )
    if kind == "BODY":
        return "body_samples" if attribute == "example" else "body_text"
    if kind == "FOOTER":
        return "footer_text"
    if kind == "BUTTONS" and button_index is not None:
        part = {
            "type": "type",
            "text": "text",
            "example": "value",
            "url": "value",
            "phone_number": "value",
        }.get(button_attribute or "", "type")
        button = (components[int(index)].get("buttons") or [{}])[int(button_index)]
        if button_attribute == "example" and str(button.get("type", "")).upper() == "URL":
            part = "sample"
        return f"button_{button_index}_{part}"
    if kind == "BUTTONS":
        return "button_0_type"
    return None


def preview_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The components with each variable replaced by its sample, as a customer would see them."""
    shown = []
    for component in components:
        component = dict(component)
        example: dict[str, Any] = component["example"] if isinstance(component.get("example"), dict) else {}
        text = component.get("text")
        if isinstance(text, str):
            samples: list[str] = []
            if component.get("type") == "BODY":
                positional = example.get("body_text") or [[]]
                samples = list(positional[0]) if positional else []
                samples = samples or [
                    p.get("example", "") for p in example.get("body_text_named_params") or []
                ]
            elif component.get("type") == "HEADER":
                samples = list(example.get("header_text") or []) or [
                    p.get("example", "") for p in example.get("header_text_named_params") or []
                ]
            for name, sample in zip(variables(text), samples, strict=False):
                if sample:
                    text = re.sub(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", sample, text)
            component["text"] = text
        shown.append(component)
    return shown
