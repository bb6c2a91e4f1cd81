"""Input and output schemas of the waba API. Secrets only ever leave as `SecretOut`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from platform_core.api import PG_INTEGER_MAX


class SecretOut(Schema):
    set: bool
    last4: str


class SetupStartIn(Schema):
    display_name: str = ""


class SetupStepOut(Schema):
    number: int
    name: str
    title: str
    completed: bool
    required_fields: list[str]
    missing_fields: list[str]
    values: dict[str, Any]


class SetupProgressOut(Schema):
    account_id: int
    status: str
    status_reason: str
    completed_steps: list[int]
    next_step: int | None
    ready_to_complete: bool
    steps: list[SetupStepOut]


class PhoneNumberOut(Schema):
    id: int
    account_id: int
    phone_number_id: str
    e164_number: str
    display_phone_number: str
    verified_name: str
    quality_rating: str
    messaging_limit_tier: str
    throughput_level: str
    throughput_mps: int
    status: str
    name_status: str
    is_registered: bool
    last_synced_at: datetime | None
    created_at: datetime


class BusinessProfileOut(Schema):
    name: str
    description: str
    email: str
    vertical: str
    address: str
    website: str


class BotConfigurationOut(Schema):
    auto_reply_enabled: bool
    greeting_message: str
    fallback_message: str
    out_of_hours_message: str
    business_hours_start: str | None
    business_hours_end: str | None
    timezone: str
    conversation_state_ttl_minutes: int
    call_reply_enabled: bool
    call_reply_message: str
    call_reply_template_name: str
    call_reply_template_language: str
    call_reply_interval_minutes: int


class RateLimitsOut(Schema):
    per_minute: int
    per_day: int
    per_month: int


class AccountOut(Schema):
    id: int
    display_name: str
    waba_id: str
    business_account_id: str
    app_id: str
    app_secret: SecretOut
    access_token: SecretOut
    access_token_expires_at: datetime | None
    webhook_verify_token: SecretOut
    webhook_callback_url: str | None
    business_profile: BusinessProfileOut
    bot_configuration: BotConfigurationOut
    subscribed_fields: list[str]
    status: str
    status_reason: str
    status_error_code: int | None
    status_changed_at: datetime | None
    rate_limits: RateLimitsOut
    meta_capabilities: dict[str, Any]
    setup_completed_steps: list[int]
    activated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    phone_numbers: list[PhoneNumberOut]


class WebhookSetupOut(Schema):
    callback_url: str
    verify_token: str
    subscribed_fields: list[str]
    instructions: str


class TemplatesImportOut(Schema):
    """The WABA's existing templates, imported from Meta at completion."""

    imported: bool
    counts: dict[str, int]  # total, created, updated, unchanged, deleted
    error: dict[str, str] | None  # {"code", "message"}: why nothing was imported (tried again every 6 hours)


class SetupCompleteOut(Schema):
    account: AccountOut
    webhook: WebhookSetupOut
    templates: TemplatesImportOut


class AccountCreateIn(Schema):
    display_name: str = ""


class AccountUpdateIn(Schema):
    """The lower bound of each rate limit (1) is checked with the other fields, so all errors come at once."""

    display_name: str | None = None
    rate_limit_per_minute: int | None = Field(None, le=PG_INTEGER_MAX)
    rate_limit_per_day: int | None = Field(None, le=PG_INTEGER_MAX)
    rate_limit_per_month: int | None = Field(None, le=PG_INTEGER_MAX)


class PhoneNumberRegisterIn(Schema):
    pin: str


class PhoneNumbersRefreshOut(Schema):
    updated: list[str]
    unchanged: list[str]
    missing: list[str]


class TemplateOut(Schema):
    id: int
    account_id: int
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    variable_count: int
    parameter_counts: dict[str, Any]
    status: str
    rejection_reason: str
    quality_score: str
    meta_template_id: str
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TemplatesSyncOut(Schema):
    total: int
    created: int
    updated: int
    unchanged: int
    deleted: int


class AccountEventOut(Schema):
    id: int
    field: str
    event: str
    subject: str
    outcome: str
    value: dict[str, Any]
    occurred_at: datetime | None
    received_at: datetime
