"""Tenant API of the waba app: setup wizard, accounts, phone numbers, templates.

Thin: parse, call one service or selector, shape the output. Every id is looked up in the
serving tenant's schema, so another tenant's id is a 404. Bodies that the services validate
field by field are taken as JSON objects (their schema is shown in the docs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Body, Field, File, Query, Router, Schema, Status, UploadedFile

from platform_core.api import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RowId, ShapedRows, paginated
from waba import selectors
from waba.models import WhatsAppAccount
from waba.schemas import (
    AccountCreateIn,
    AccountEventOut,
    AccountOut,
    AccountUpdateIn,
    PhoneNumberOut,
    PhoneNumberRegisterIn,
    PhoneNumbersRefreshOut,
    SetupCompleteOut,
    SetupProgressOut,
    SetupStartIn,
    TemplateOut,
    TemplatesSyncOut,
)
from waba.services import (
    accounts,
    activation,
    media,
    phone_numbers,
    profile,
    template_library,
    templates,
    wizard,
)
from waba.services.credentials import secret_summary
from waba.services.phone_numbers import PhoneNumberInput
from waba.services.setup_steps import STEPS, steps_description
from waba.services.templates import TemplateInput

router = Router(tags=["WhatsApp accounts"])

WEBHOOK_INSTRUCTIONS = (
    "In Meta's App Dashboard open WhatsApp > Configuration > Webhook, paste callback_url and "
    "verify_token, press 'Verify and save', then subscribe to the webhook fields listed here."
)


def _json_body(schema: dict) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _one_shot_schema() -> dict:
    return {
        "type": "object",
        "properties": {step.key: step.model.model_json_schema() for step in STEPS},
        "required": [step.key for step in STEPS if set(step.required) - set(step.defaults)],
    }


def account_out(account: WhatsAppAccount) -> dict[str, Any]:
    def clock(value: Any) -> str | None:
        return value.strftime("%H:%M") if value else None

    return {
        "id": account.pk,
        "display_name": account.display_name,
        "waba_id": account.waba_id,
        "business_account_id": account.business_account_id,
        "app_id": account.app_id,
        "app_secret": secret_summary(account.app_secret),
        "access_token": secret_summary(account.access_token),
        "access_token_expires_at": account.access_token_expires_at,
        "webhook_verify_token": secret_summary(account.webhook_verify_token or None),
        "webhook_callback_url": accounts.webhook_callback_url(app_id=account.app_id) if account.app_id else None,
        "business_profile": {
            "name": account.profile_name,
            "description": account.profile_description,
            "email": account.profile_email,
            "vertical": account.profile_vertical,
            "address": account.profile_address,
            "website": account.profile_website,
        },
        "bot_configuration": {
            "auto_reply_enabled": account.auto_reply_enabled,
            "greeting_message": account.greeting_message,
            "fallback_message": account.fallback_message,
            "out_of_hours_message": account.out_of_hours_message,
            "business_hours_start": clock(account.business_hours_start),
            "business_hours_end": clock(account.business_hours_end),
            "timezone": account.timezone,
            "conversation_state_ttl_minutes": account.conversation_state_ttl_minutes,
            "call_reply_enabled": account.call_reply_enabled,
            "call_reply_message": account.call_reply_message,
            "call_reply_template_name": account.call_reply_template_name,
            "call_reply_template_language": account.call_reply_template_language,
            "call_reply_interval_minutes": account.call_reply_interval_minutes,
        },
        "subscribed_fields": account.subscribed_fields or [],
        "status": account.status,
        "status_reason": account.status_reason,
        "status_error_code": account.status_error_code,
        "status_changed_at": account.status_changed_at,
        "rate_limits": {
            "per_minute": account.rate_limit_per_minute,
            "per_day": account.rate_limit_per_day,
            "per_month": account.rate_limit_per_month,
        },
        "meta_capabilities": account.meta_capabilities or {},
        "setup_completed_steps": account.setup_completed_steps or [],
        "activated_at": account.activated_at,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
        "phone_numbers": list(account.phone_numbers.all()),  # ordered by id; prefetched in lists
    }


def _complete_out(result: activation.SetupResult) -> dict[str, Any]:
    return {
        "account": account_out(result.account),
        "webhook": {
            "callback_url": result.callback_url,
            "verify_token": result.verify_token,
            "subscribed_fields": result.account.subscribed_fields or [],
            "instructions": WEBHOOK_INSTRUCTIONS,
        },
        "templates": {
            "imported": not result.templates.error_code,
            "counts": result.templates.counts,
            "error": {"code": result.templates.error_code, "message": result.templates.error_message}
            if result.templates.error_code else None,
        },
    }


# --- setup wizard ------------------------------------------------------------------------------


@router.post("/setup", response={201: SetupProgressOut}, tags=["setup wizard"])
def setup_start(request: HttpRequest, payload: SetupStartIn | None = None):
    """Start a wizard: a draft account whose six steps are then saved in any order."""
    account = wizard.setup_start(display_name=payload.display_name if payload else "")
    return Status(201, wizard.setup_progress(account=account))


@router.get("/setup/{int:account_id}", response=SetupProgressOut, tags=["setup wizard"])
def setup_progress(request: HttpRequest, account_id: int):
    return wizard.setup_progress(account=selectors.account_get(account_id=account_id))


@router.put(
    "/setup/{int:account_id}/steps/{step}",
    response=SetupProgressOut,
    tags=["setup wizard"],
    description="Save one step, by number (1-6) or name. The steps and their fields:\n\n" + steps_description(),
    openapi_extra=_json_body({"oneOf": [step.model.model_json_schema() for step in STEPS]}),
)
def setup_step_save(request: HttpRequest, account_id: int, step: str, payload: Body[dict[str, Any]]):
    account = selectors.account_get(account_id=account_id)
    wizard.setup_step_save(account=account, step=step, data=payload)
    return wizard.setup_progress(account=account)


@router.post("/setup/{int:account_id}/complete", response=SetupCompleteOut, tags=["setup wizard"])
def setup_complete(request: HttpRequest, account_id: int):
    """Check with Meta, claim the WABA and numbers, register the app, subscribe it, go live."""
    result = activation.setup_complete(account=selectors.account_get(account_id=account_id))
    return _complete_out(result)


@router.post(
    "/accounts/setup",
    response={201: SetupCompleteOut},
    tags=["setup wizard"],
    description="All six steps at once, keyed by step (`business_account`, `phone_number`, `access_tokens`, "
    "`business_profile`, `bot_configuration`, `webhook_configuration`), then completion. Nothing is kept "
    "when anything fails.",
    openapi_extra=_json_body(_one_shot_schema()),
)
def setup_all(request: HttpRequest, payload: Body[dict[str, Any]]):
    return Status(201, _complete_out(activation.setup_all(data=payload)))


# --- accounts --------------------------------------------------------------------------------------


@router.get("/accounts", response=list[AccountOut])
@paginated
def account_list(request: HttpRequest):
    return ShapedRows(selectors.accounts_list(), account_out)


@router.post("/accounts", response={201: AccountOut})
def account_create(request: HttpRequest, payload: AccountCreateIn):
    """A draft account; set it up with the wizard steps (/setup/{id}/steps/...)."""
    return Status(201, account_out(accounts.account_create(display_name=payload.display_name)))


@router.get("/accounts/{int:account_id}", response=AccountOut)
def account_get(request: HttpRequest, account_id: int):
    return account_out(selectors.account_get(account_id=account_id))


@router.patch("/accounts/{int:account_id}", response=AccountOut)
def account_update(request: HttpRequest, account_id: int, payload: AccountUpdateIn):
    """Name and rate limits; credentials, profile, bot and webhook settings change through the wizard steps."""
    account = selectors.account_get(account_id=account_id)
    accounts.account_update(account=account, **payload.model_dump(exclude_unset=True, exclude_none=True))
    return account_out(account)


@router.delete("/accounts/{int:account_id}", response={204: None})
def account_delete(request: HttpRequest, account_id: int):
    """Delete the account, its numbers, templates and their messages; its ids leave the routing index."""
    accounts.account_delete(account=selectors.account_get(account_id=account_id))
    return Status(204, None)


@router.get("/accounts/{int:account_id}/events", response=list[AccountEventOut])
def account_event_list(
    request: HttpRequest,
    account_id: int,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"Events to return, 1 to {MAX_PAGE_SIZE}."),
):
    """Account-level webhook events applied to this account, the newest `limit`, newest first."""
    account = selectors.account_get(account_id=account_id)
    return selectors.account_events(account=account, limit=limit)


# --- phone numbers ---------------------------------------------------------------------------------


class PhoneNumberFilters(Schema):
    account_id: RowId | None = None
    status: str | None = Field(None, max_length=32, description="Meta's status, e.g. CONNECTED (any case).")
    quality_rating: str | None = Field(None, max_length=16, description="GREEN, YELLOW, RED or UNKNOWN (any case).")


@router.get("/phone-numbers", response=list[PhoneNumberOut], tags=["phone numbers"])
@paginated
def phone_number_list_all(request: HttpRequest, filters: Query[PhoneNumberFilters]):
    """Numbers of every account of the workspace, by id; filtered by account, status and quality."""
    return selectors.phone_numbers_filter(**filters.model_dump())


@router.get("/accounts/{int:account_id}/phone-numbers", response=list[PhoneNumberOut], tags=["phone numbers"])
def phone_number_list(request: HttpRequest, account_id: int):
    return list(selectors.phone_numbers_of(account=selectors.account_get(account_id=account_id)))


@router.post(
    "/accounts/{int:account_id}/phone-numbers",
    response={201: PhoneNumberOut},
    tags=["phone numbers"],
    openapi_extra=_json_body(PhoneNumberInput.model_json_schema()),
)
def phone_number_add(request: HttpRequest, account_id: int, payload: Body[dict[str, Any]]):
    """Add a number; on a live account Meta confirms it belongs to the WABA and it is claimed for routing."""
    account = selectors.account_get(account_id=account_id)
    return Status(201, phone_numbers.phone_number_add(account=account, data=payload))


@router.post(
    "/accounts/{int:account_id}/phone-numbers/refresh", response=PhoneNumbersRefreshOut, tags=["phone numbers"]
)
def phone_numbers_refresh(request: HttpRequest, account_id: int):
    """Update every number's quality, tier, throughput, status and name from Meta."""
    return phone_numbers.phone_numbers_refresh(account=selectors.account_get(account_id=account_id))


@router.get("/phone-numbers/{int:phone_id}", response=PhoneNumberOut, tags=["phone numbers"])
def phone_number_get(request: HttpRequest, phone_id: int):
    return selectors.phone_number_get(phone_id=phone_id)


@router.delete("/phone-numbers/{int:phone_id}", response={204: None}, tags=["phone numbers"])
def phone_number_remove(request: HttpRequest, phone_id: int):
    phone_numbers.phone_number_remove(phone=selectors.phone_number_get(phone_id=phone_id))
    return Status(204, None)


@router.post("/phone-numbers/{int:phone_id}/register", response=PhoneNumberOut, tags=["phone numbers"])
def phone_number_register(request: HttpRequest, phone_id: int, payload: PhoneNumberRegisterIn):
    """Register the number for the Cloud API with its 6-digit two-step verification PIN."""
    return phone_numbers.phone_number_register(phone=selectors.phone_number_get(phone_id=phone_id), pin=payload.pin)


# --- templates ---------------------------------------------------------------------------------------


class TemplateFilters(Schema):
    account_id: RowId | None = None
    status: str | None = None
    category: str | None = None
    language: str | None = None
    name: str | None = None


@router.get("/templates", response=list[TemplateOut], tags=["templates"])
@paginated
def template_list(request: HttpRequest, filters: Query[TemplateFilters]):
    """Templates of every account, filtered by account, status, category, language; `name` matches part of it."""
    return selectors.templates_filter(**filters.model_dump())


@router.post(
    "/accounts/{int:account_id}/templates",
    response={201: TemplateOut},
    tags=["templates"],
    openapi_extra=_json_body(TemplateInput.model_json_schema()),
)
def template_create(request: HttpRequest, account_id: int, payload: Body[dict[str, Any]], submit: bool = True):
    """Create a template and submit it to Meta (stored PENDING with Meta's id); `?submit=false` keeps a DRAFT."""
    account = selectors.account_get(account_id=account_id)
    return Status(201, templates.template_create(account=account, data=payload, submit=submit))


@router.post("/accounts/{int:account_id}/templates/sync", response=TemplatesSyncOut, tags=["templates"])
def templates_sync(request: HttpRequest, account_id: int):
    """Match the stored templates to Meta's list (all pages)."""
    return templates.templates_sync(account=selectors.account_get(account_id=account_id))


@router.get("/templates/{int:template_id}", response=TemplateOut, tags=["templates"])
def template_get(request: HttpRequest, template_id: int):
    return selectors.template_get(template_id=template_id)


@router.post("/templates/{int:template_id}/submit", response=TemplateOut, tags=["templates"])
def template_submit(request: HttpRequest, template_id: int):
    return templates.template_submit(template=selectors.template_get(template_id=template_id))


@router.delete("/templates/{int:template_id}", response={204: None}, tags=["templates"])
def template_delete(request: HttpRequest, template_id: int):
    """Delete on Meta (this language) and here."""
    templates.template_delete(template=selectors.template_get(template_id=template_id))
    return Status(204, None)


class TemplateEditIn(Schema):
    components: list[dict[str, Any]]
    category: str | None = None


class TemplateCopyIn(Schema):
    language: str


class StarterOut(Schema):
    key: str
    title: str
    summary: str
    name: str
    category: str
    components: list[dict[str, Any]]


class StarterAdoptIn(Schema):
    key: str
    language: str = "en_US"
    name: str | None = None


@router.patch("/templates/{int:template_id}", response=TemplateOut, tags=["templates"])
def template_edit(request: HttpRequest, template_id: int, payload: TemplateEditIn):
    """Edit as Meta permits: drafts here; APPROVED, REJECTED and PAUSED templates on Meta (back to review)."""
    template = selectors.template_get(template_id=template_id)
    return templates.template_edit(template=template, components=payload.components, category=payload.category)


@router.post("/templates/{int:template_id}/copy", response={201: TemplateOut}, tags=["templates"])
def template_copy(request: HttpRequest, template_id: int, payload: TemplateCopyIn):
    """The same template in another language, as a DRAFT."""
    template = selectors.template_get(template_id=template_id)
    return Status(201, templates.template_copy(template=template, language=payload.language))


@router.get("/template-starters", response=list[StarterOut], tags=["templates"])
def template_starter_list(request: HttpRequest):
    return [{**vars(starter), "components": list(starter.components)} for starter in template_library.STARTERS]


@router.post("/accounts/{int:account_id}/template-starters", response={201: TemplateOut}, tags=["templates"])
def template_starter_adopt(request: HttpRequest, account_id: int, payload: StarterAdoptIn):
    """A DRAFT copy of a starter template for this account."""
    account = selectors.account_get(account_id=account_id)
    return Status(
        201,
        template_library.template_starter_adopt(
            account=account, key=payload.key, language=payload.language, name=payload.name
        ),
    )


# --- media and business profile ----------------------------------------------------------------------


class MediaAssetOut(Schema):
    id: int
    account_id: int
    purpose: str
    name: str
    media_type: str
    content_type: str
    size_bytes: int
    sha256: str
    media_id: str
    handle: str
    uploaded_at: datetime
    expires_at: datetime | None


class MetaBusinessProfileOut(Schema):
    """The profile as the platform pushed it to Meta and read it back (the setup step's own fields are
    the account's `business_profile`)."""

    about: str
    address: str
    description: str
    email: str
    websites: list[str]
    vertical: str
    profile_picture_url: str
    pushed_at: datetime | None


@router.get("/accounts/{int:account_id}/media", response=list[MediaAssetOut], tags=["media"])
@paginated
def media_list(request: HttpRequest, account_id: int):
    return media.media_assets_of(account=selectors.account_get(account_id=account_id))


@router.post("/accounts/{int:account_id}/media", response={201: MediaAssetOut}, tags=["media"])
def media_upload(request: HttpRequest, account_id: int, file: File[UploadedFile], purpose: str = "message"):
    """Upload a file to Meta (checked against Meta's type and size limits first). `purpose=sample`
    uses the resumable upload and answers a `handle` for template header samples or the profile photo.
    """
    account = selectors.account_get(account_id=account_id)
    data = file.read()
    name, content_type = file.name or "upload", file.content_type or ""
    if purpose == "sample":
        asset = media.media_sample_upload(account=account, name=name, content_type=content_type, data=data)
    else:
        asset = media.media_upload(account=account, name=name, content_type=content_type, data=data)
    return Status(201, asset)


@router.get("/media/{int:asset_id}", response=MediaAssetOut, tags=["media"])
def media_get(request: HttpRequest, asset_id: int):
    return media.media_asset_get(asset_id=asset_id)


@router.get("/accounts/{int:account_id}/business-profile", response=MetaBusinessProfileOut, tags=["business profile"])
def business_profile_get(request: HttpRequest, account_id: int):
    return profile.business_profile_of(account=selectors.account_get(account_id=account_id))


@router.patch(
    "/accounts/{int:account_id}/business-profile",
    response=MetaBusinessProfileOut,
    tags=["business profile"],
    openapi_extra=_json_body(profile.BusinessProfileInput.model_json_schema()),
)
def business_profile_update(request: HttpRequest, account_id: int, payload: Body[dict[str, Any]]):
    """Change the profile and push it to every number of the account (Meta first)."""
    account = selectors.account_get(account_id=account_id)
    return profile.business_profile_update(account=account, data=payload)


@router.post(
    "/accounts/{int:account_id}/business-profile/refresh", response=MetaBusinessProfileOut, tags=["business profile"]
)
def business_profile_refresh(request: HttpRequest, account_id: int):
    """Read the profile back from Meta."""
    return profile.business_profile_refresh(account=selectors.account_get(account_id=account_id))
