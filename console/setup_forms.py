"""The setup wizard's forms: one per step, naming the same fields as the wizard's services.

The forms only collect input; the wizard's services validate it (`waba.services.wizard`), and
their per-field errors are put back on the form fields (`step_errors_apply`). Secrets are never
rendered back: a saved secret shows its last four characters, and leaving it empty keeps it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.html import format_html

from platform_core.errors import DomainError
from waba import meta
from waba.services.setup_steps import DEFAULT_SUBSCRIBED_FIELDS, STEPS_BY_NUMBER, SetupStep

BLANK_CHOICE = [("", "Choose…")]


def _text(label: str, help_text: str = "", **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, help_text=help_text, widget=forms.TextInput(attrs=attrs)
    )


def _secret(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _message(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": meta.TEXT_MESSAGE_MAX_CHARS}),
    )


class SetupStepForm(forms.Form):
    """One wizard step. `service_data()` is the body the wizard's service takes."""

    step_number: ClassVar[int]

    def __init__(self, data: Any = None, *, saved: dict[str, Any] | None = None) -> None:
        """`saved` is the step's values as `setup_progress` shows them (secrets as summaries)."""
        saved = saved or {}
        initial = {name: value for name, value in saved.items() if name not in self.step.secrets}
        super().__init__(data, initial=initial)
        for name, field in self.fields.items():
            if name in self.step.required and name not in self.step.defaults:
                field.label = format_html("{} <span class='required'>(required)</span>", field.label)
            if name in self.step.secrets:
                field.help_text = self._secret_help(name, saved.get(name) or {})
            if field.help_text and not isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["aria-describedby"] = f"id_{name}_help"

    @property
    def step(self) -> SetupStep:
        return STEPS_BY_NUMBER[self.step_number]

    def _secret_help(self, name: str, summary: dict[str, Any]) -> str:
        if summary.get("set"):
            return format_html(
                "Saved: <span class='secret-mask'>•••• {}</span> (ends with {}). Leave empty to keep it.",
                summary.get("last4", ""),
                summary.get("last4", ""),
            )
        if name == "webhook_verify_token":
            return "Leave empty and one is generated for you (8-128 letters, digits or . _ ~ -)."
        return "Not saved yet."

    def service_data(self) -> dict[str, Any]:
        """The cleaned input for the wizard: an empty secret is left out (the saved one stays), any
        other empty field is sent as null (cleared, or reported as missing when required)."""
        data: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name in self.step.secrets:
                if value:
                    data[name] = value
            elif isinstance(value, str):
                data[name] = value or None
            else:
                data[name] = value
        return data

    def step_errors_apply(self, error: DomainError) -> None:
        """Put a service's errors next to the fields they name; the rest above the form."""
        details = error.details if isinstance(error.details, list) else []
        placed = False
        for item in details:
            if not isinstance(item, dict):
                continue
            name = str(item.get("field") or "").split(".")[0]
            if name in self.fields:
                self.add_error(name, str(item.get("message") or error.message))
                self.fields[name].widget.attrs["aria-invalid"] = "true"
                placed = True
        if not placed or error.code != "validation_error":
            self.add_error(None, error.message)


class BusinessAccountForm(SetupStepForm):
    step_number = 1

    display_name = _text("Account name", "How this account is called in the console, e.g. your brand.")
    waba_id = _text(
        "WhatsApp Business Account ID",
        "Meta App Dashboard > WhatsApp > API Setup: the WhatsApp Business Account ID.",
        inputmode="numeric",
    )
    business_account_id = _text(
        "Meta Business Portfolio ID", "Meta Business Suite > Settings > Business info.", inputmode="numeric"
    )
    app_id = _text("Meta App ID", "App Dashboard > App settings > Basic: App ID.", inputmode="numeric")
    app_secret = _secret("App secret")


class PhoneNumberForm(SetupStepForm):
    step_number = 2

    phone_number_id = _text(
        "Phone number ID", "App Dashboard > WhatsApp > API Setup: the Phone number ID.", inputmode="numeric"
    )
    phone_number = forms.CharField(
        label="Phone number",
        required=False,
        help_text="In international format, e.g. +1 555 010 0001.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    display_phone_number = _text("Display number", "Optional: how the number is shown. Derived when empty.")


class AccessTokensForm(SetupStepForm):
    step_number = 3

    access_token = _secret("Access token (system user, permanent)")
    webhook_verify_token = _secret("Webhook verify token")


class BusinessProfileForm(SetupStepForm):
    step_number = 4

    profile_name = _text("Business name")
    profile_description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 512})
    )
    profile_email = forms.CharField(
        label="Email",
        required=False,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "email"}),
    )
    profile_vertical = forms.ChoiceField(
        label="Industry",
        required=False,
        choices=BLANK_CHOICE
        + [(name, name.replace("_", " ").title()) for name in sorted(meta.BUSINESS_VERTICALS)],
    )
    profile_address = _text("Address")
    profile_website = forms.CharField(
        label="Website",
        required=False,
        help_text="Starting with https:// or http://.",
        widget=forms.TextInput(attrs={"type": "url", "autocomplete": "url"}),
    )


class BotConfigurationForm(SetupStepForm):
    step_number = 5

    auto_reply_enabled = forms.BooleanField(label="Answer automatically", required=False)
    greeting_message = _message("Greeting", "Sent when a customer writes for the first time.")
    fallback_message = _message(
        "Fallback reply", "Sent when no menu or keyword matches. Required with auto-reply on."
    )
    out_of_hours_message = _message("Out-of-hours reply", "Sent outside business hours.")
    business_hours_start = forms.CharField(
        label="Business hours start", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    business_hours_end = forms.CharField(
        label="Business hours end", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    timezone = _text("Time zone", "IANA name, e.g. Europe/Berlin or America/New_York.", autocomplete="off")
    conversation_state_ttl_minutes = forms.CharField(
        label="Conversation memory (minutes)",
        required=False,
        help_text="How long a menu conversation waits for the customer's answer.",
        widget=forms.NumberInput(attrs={"min": 1, "max": 7 * 24 * 60}),
    )
    call_reply_enabled = forms.BooleanField(label="Answer calls with a message", required=False)
    call_reply_message = _message(
        "Call reply",
        "Sent to a customer who calls this number while their last message is under 24 hours old.",
    )
    call_reply_template_name = _text(
        "Call reply template", "An approved template without variables, sent instead outside those 24 hours."
    )
    call_reply_template_language = _text("Call reply template language", "e.g. en_US.", autocomplete="off")
    call_reply_interval_minutes = forms.CharField(
        label="Call reply at most every (minutes)",
        required=False,
        help_text="One reply per caller in this time. 60 when left empty.",
        widget=forms.NumberInput(attrs={"min": 1, "max": 7 * 24 * 60}),
    )


class WebhookConfigurationForm(SetupStepForm):
    step_number = 6

    subscribed_fields = forms.MultipleChoiceField(
        label="Webhook fields",
        required=False,
        choices=[(name, name) for name in meta.WEBHOOK_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        help_text="What Meta sends to the platform. <code>messages</code> is needed for every message and "
        "status; template, number quality and <code>flows</code> keep the console up to date.",
    )

    def __init__(self, data: Any = None, *, saved: dict[str, Any] | None = None) -> None:
        saved = dict(saved or {})
        saved["subscribed_fields"] = saved.get("subscribed_fields") or DEFAULT_SUBSCRIBED_FIELDS
        super().__init__(data, saved=saved)

    def service_data(self) -> dict[str, Any]:
        return {"subscribed_fields": list(self.cleaned_data.get("subscribed_fields") or [])}


STEP_FORMS: dict[int, type[SetupStepForm]] = {
    form.step_number: form
    for form in (
        BusinessAccountForm,
        PhoneNumberForm,
        AccessTokensForm,
        BusinessProfileForm,
        BotConfigurationForm,
        WebhookConfigurationForm,
    )
}
