"""The six steps of the setup wizard: their fields, which are required, and how each is checked.

A step's input model types and formats every field; keys left out keep their saved value, keys
sent as null clear an optional field. Rules across fields of one step live in `rules`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from tenants.routing import meta_app_is_reserved
from waba import meta
from waba.validation import ClockTime, MetaId, PhoneNumberText, SecretText, StrictInput, TimeZoneName


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("Must be an email address.") from None
    return value


def _website(value: str) -> str:
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError:
            raise ValueError("Must be a web address starting with http:// or https://.") from None
    return value


def _vertical(value: str) -> str:
    value = value.upper()
    if value and value not in meta.BUSINESS_VERTICALS:
        raise ValueError(f"Must be one of {', '.join(sorted(meta.BUSINESS_VERTICALS))}.")
    return value


VERIFY_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_.~-]{8,128}")


def _verify_token(value: str) -> str:
    if not VERIFY_TOKEN_PATTERN.fullmatch(value):
        raise PydanticCustomError(
            "string_pattern_mismatch",
            "The webhook verify token must be 8 to 128 characters long and use only letters, digits "
            "and the characters . _ ~ - (no spaces), e.g. my-verify-token-2024.",
        )
    return value


def _webhook_fields(value: list[str]) -> list[str]:
    unknown = [item for item in value if item not in meta.WEBHOOK_FIELDS]
    if unknown:
        raise ValueError(f"Unknown webhook fields {unknown}; choose from {list(meta.WEBHOOK_FIELDS)}.")
    return list(dict.fromkeys(value))


def _tenant_app_id(value: str) -> str:
    if meta_app_is_reserved(value):
        raise PydanticCustomError(
            "app_id_reserved",
            "This is the platform's own Meta app; enter the id of your own Meta app "
            "(App settings > Basic in Meta's developer dashboard).",
        )
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
DisplayNumber = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=512)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=256)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)]
Vertical = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_vertical)]
Website = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_website)]
MessageText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=meta.TEXT_MESSAGE_MAX_CHARS)]
TenantAppId = Annotated[MetaId, AfterValidator(_tenant_app_id)]
VerifyToken = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_verify_token)]


class BusinessAccountStep(StrictInput):
    display_name: Name | None = None
    waba_id: MetaId | None = None
    business_account_id: MetaId | None = None
    app_id: TenantAppId | None = None
    app_secret: SecretText | None = None


class PhoneNumberStep(StrictInput):
    phone_number_id: MetaId | None = None
    phone_number: PhoneNumberText | None = None
    display_phone_number: DisplayNumber | None = None


class AccessTokensStep(StrictInput):
    access_token: SecretText | None = None
    webhook_verify_token: VerifyToken | None = Field(
        default=None, description="8-128 letters, digits or ._~-; generated when never given."
    )


class BusinessProfileStep(StrictInput):
    profile_name: Name | None = None
    profile_description: Description | None = None
    profile_email: Email | None = None
    profile_vertical: Vertical | None = None
    profile_address: Address | None = None
    profile_website: Website | None = None


class BotConfigurationStep(StrictInput):
    auto_reply_enabled: bool | None = None
    greeting_message: MessageText | None = None
    fallback_message: MessageText | None = None
    out_of_hours_message: MessageText | None = None
    business_hours_start: ClockTime | None = Field(default=None, description='"HH:MM", local to `timezone`')
    business_hours_end: ClockTime | None = Field(default=None, description='"HH:MM", local to `timezone`')
    timezone: TimeZoneName | None = None
    conversation_state_ttl_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] | None = None
    call_reply_enabled: bool | None = None
    call_reply_message: MessageText | None = None
    call_reply_template_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=512)] | None = None
    call_reply_template_language: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)] | None = None
    call_reply_interval_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] | None = None


class WebhookConfigurationStep(StrictInput):
    subscribed_fields: Annotated[list[str], AfterValidator(_webhook_fields)] | None = None


def _bot_rules(values: dict[str, Any]) -> list[dict]:
    errors = []
    if (values.get("business_hours_start") is None) != (values.get("business_hours_end") is None):
        for name in ("business_hours_start", "business_hours_end"):
            if values.get(name) is None:
                errors.append({"field": name, "message": "Give both business hours or neither.", "type": "missing"})
    if values.get("auto_reply_enabled") and not values.get("fallback_message"):
        errors.append(
            {"field": "fallback_message", "message": "Required when auto-reply is on.", "type": "missing"}
        )
    if bool(values.get("call_reply_template_name")) != bool(values.get("call_reply_template_language")):
        for name in ("call_reply_template_name", "call_reply_template_language"):
            if not values.get(name):
                errors.append({"field": name, "message": "Give the template's name and language, or neither.",
                               "type": "missing"})
    if values.get("call_reply_enabled") and not (
        values.get("call_reply_message") or values.get("call_reply_template_name")
    ):
        errors.append({"field": "call_reply_message", "message": "Required when the call reply is on (or a template).",
                       "type": "missing"})
    return errors


def _webhook_rules(values: dict[str, Any]) -> list[dict]:
    if meta.WEBHOOK_MESSAGES_FIELD not in (values.get("subscribed_fields") or []):
        return [
            {
                "field": "subscribed_fields",
                "message": "Must include 'messages': without it no customer message or status arrives.",
                "type": "missing",
            }
        ]
    return []


@dataclass(frozen=True)
class SetupStep:
    number: int
    slug: str  # the path segment: /setup/{id}/steps/business-account
    key: str  # the key in the one-shot body: {"business_account": {...}}
    title: str
    model: type[StrictInput]
    required: tuple[str, ...]
    secrets: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    rules: Callable[[dict[str, Any]], list[dict]] | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.model.model_fields)


DEFAULT_SUBSCRIBED_FIELDS = [name for name in meta.WEBHOOK_FIELDS if name != "security"]

STEPS: tuple[SetupStep, ...] = (
    SetupStep(
        1,
        "business-account",
        "business_account",
        "Meta business account",
        BusinessAccountStep,
        required=("display_name", "waba_id", "business_account_id", "app_id", "app_secret"),
        secrets=("app_secret",),
    ),
    SetupStep(
        2, "phone-number", "phone_number", "Phone number", PhoneNumberStep, required=("phone_number_id", "phone_number")
    ),
    SetupStep(
        3,
        "access-tokens",
        "access_tokens",
        "Access tokens",
        AccessTokensStep,
        required=("access_token", "webhook_verify_token"),
        secrets=("access_token", "webhook_verify_token"),
    ),
    SetupStep(4, "business-profile", "business_profile", "Business profile", BusinessProfileStep, required=("profile_name",)),
    SetupStep(
        5, "bot-configuration", "bot_configuration", "Bot configuration", BotConfigurationStep, required=(), rules=_bot_rules
    ),
    SetupStep(
        6,
        "webhook-configuration",
        "webhook_configuration",
        "Webhook configuration",
        WebhookConfigurationStep,
        required=("subscribed_fields",),
        defaults={"subscribed_fields": DEFAULT_SUBSCRIBED_FIELDS},
        rules=_webhook_rules,
    ),
)
STEPS_BY_NUMBER = {step.number: step for step in STEPS}
STEPS_BY_SLUG = {step.slug: step for step in STEPS}
# The fields that route webhooks: locked once the account is live.
IDENTITY_FIELDS = ("waba_id", "app_id", "phone_number_id")


def steps_description() -> str:
    """Markdown listing each step's fields, for the API docs."""
    lines = []
    for step in STEPS:
        fields = ", ".join(f"`{name}`" + ("*" if name in step.required else "") for name in step.fields)
        lines.append(f"- **{step.number}** `{step.slug}` ({step.title}): {fields}")
    return "\n".join(lines) + "\n\n`*` required. Keys left out keep their saved value."
