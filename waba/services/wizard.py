"""The 6-step setup wizard: save any step in any order and see the progress.

Saving a step validates its fields (422 per field), merges them onto what was saved before
(other steps are never touched), checks with Meta what Meta can tell, then stores it. Going live
is `waba.services.activation`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import time
from typing import Any

from django.db import models, transaction

from platform_core.crypto import EncryptedTextField, Secret
from tenants.models import MetaRoute
from tenants.routing import meta_app_check, route_claim_check
from waba.errors import (
    FieldsInvalid,
    IdentityLocked,
    SetupStepUnknown,
    meta_request_failed,
)
from waba.graph import GraphClient, GraphError
from waba.meta import ErrorCode
from waba.models import PhoneNumber, WhatsAppAccount
from waba.services.accounts import account_create, account_mark_healthy, tenant_current
from waba.services.credentials import TokenFacts, secret_summary, secret_value, token_inspect
from waba.services.phone_numbers import (
    display_number_for,
    meta_phone_numbers,
    phone_number_apply_meta,
    phone_number_duplicate_check,
    phone_number_in_waba_check,
)
from waba.services.setup_steps import IDENTITY_FIELDS, STEPS, STEPS_BY_NUMBER, STEPS_BY_SLUG, SetupStep
from waba.validation import fields_parse

Status = WhatsAppAccount.Status


@dataclass
class PreparedStep:
    step: SetupStep
    given: dict[str, Any]  # what this request sets (after defaults and generated values)
    merged: dict[str, Any]  # the step's values once saved


# --- reading -------------------------------------------------------------------------------------


def setup_step_resolve(step: int | str) -> SetupStep:
    """A step by number (1-6, also as text) or by name (`business-account` ...)."""
    text = str(step).strip().lower()
    found = STEPS_BY_NUMBER.get(int(text)) if text.isdigit() else STEPS_BY_SLUG.get(text.replace("_", "-"))
    if found is None:
        names = ", ".join(f"{s.number} ({s.slug})" for s in STEPS)
        raise SetupStepUnknown(f"No setup step {step!r}. The steps are {names}.")
    return found


def wizard_phone(account: WhatsAppAccount) -> PhoneNumber | None:
    """The number step 2 edits: the account's first."""
    if account.pk is None:
        return None
    return account.phone_numbers.order_by("id").first()


def setup_step_values(*, account: WhatsAppAccount, step: SetupStep) -> dict[str, Any]:
    """The step's saved values (secrets as stored: `Secret` objects)."""
    if step.number == 2:
        phone = wizard_phone(account)
        return {
            "phone_number_id": phone.phone_number_id if phone else None,
            "phone_number": phone.e164_number if phone else None,
            "display_phone_number": phone.display_phone_number if phone else None,
        }
    return {name: getattr(account, name) for name in step.fields}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (hasattr(value, "reveal") and not value)


def _shown(value: Any) -> Any:
    return value.strftime("%H:%M") if isinstance(value, time) else value


def setup_progress(*, account: WhatsAppAccount) -> dict[str, Any]:
    """Where the wizard stands: per step whether it is saved, what is missing, the values (secrets masked)."""
    completed = sorted(set(account.setup_completed_steps or []))
    steps = []
    for step in STEPS:
        values = setup_step_values(account=account, step=step)
        missing = [name for name in step.required if _empty(values.get(name)) and name not in step.defaults]
        steps.append(
            {
                "number": step.number,
                "name": step.slug,
                "title": step.title,
                "completed": step.number in completed,
                "required_fields": list(step.required),
                "missing_fields": [] if step.number in completed else missing,
                "values": {
                    name: secret_summary(value) if name in step.secrets else _shown(value)
                    for name, value in values.items()
                },
            }
        )
    pending = [step["number"] for step in steps if not step["completed"]]
    return {
        "account_id": account.pk,
        "status": account.status,
        "status_reason": account.status_reason,
        "completed_steps": completed,
        "next_step": pending[0] if pending else None,
        "ready_to_complete": not pending,
        "steps": steps,
    }


# --- saving a step -------------------------------------------------------------------------------


def setup_start(*, display_name: str = "") -> WhatsAppAccount:
    """A new draft account for the wizard."""
    return account_create(display_name=display_name)


def setup_step_save(
    *, account: WhatsAppAccount, step: int | str, data: Any, check_with_meta: bool = True
) -> WhatsAppAccount:
    """Validate and store one step; keys left out of `data` keep their saved value.

    Raises FieldsInvalid (422, per field), IdentityLocked or AlreadyClaimed (409), and with
    `check_with_meta` MetaCheckFailed / MetaRequestFailed when Meta contradicts the input.
    """
    prepared = setup_step_validate(account=account, step=setup_step_resolve(step), data=data)
    facts = _step_meta_checks(account=account, prepared=prepared) if check_with_meta else {}
    with transaction.atomic():
        setup_step_store(account=account, prepared=prepared, facts=facts)
    return account


def setup_step_validate(*, account: WhatsAppAccount, step: SetupStep, data: Any, prefix: str = "") -> PreparedStep:
    """Check one step's input against what is saved (writes nothing). `prefix` names the step in
    error fields (`business_account.waba_id`) when several steps come in one body.
    """
    stored = setup_step_values(account=account, step=step)
    try:
        parsed = fields_parse(step.model, data, prefix=prefix)
    except FieldsInvalid as error:
        # Report the required fields nobody gave yet too, so one answer lists everything to fix.
        reported = {item["field"] for item in error.details or []}
        absent = [
            {"field": _path(prefix, name), "message": "This field is required.", "type": "missing"}
            for name in step.required
            if _empty(stored.get(name)) and name not in step.defaults
            and (not isinstance(data, dict) or name not in data) and _path(prefix, name) not in reported
        ]
        raise FieldsInvalid(error.message, details=[*(error.details or []), *absent]) from None
    given = {name: getattr(parsed, name) for name in parsed.model_fields_set}
    merged = {**stored, **given}
    for name, default in step.defaults.items():
        if _empty(merged.get(name)):
            merged[name] = given[name] = list(default) if isinstance(default, list) else default
    if step.number == 3 and _empty(merged.get("webhook_verify_token")):
        merged["webhook_verify_token"] = given["webhook_verify_token"] = secrets.token_urlsafe(24)
    if step.number == 2 and merged.get("phone_number") and _empty(merged.get("display_phone_number")):
        merged["display_phone_number"] = given["display_phone_number"] = display_number_for(merged["phone_number"])

    if account.status != Status.DRAFT:
        changed = [n for n in IDENTITY_FIELDS if n in given and given[n] != stored.get(n)]
        if changed:
            raise IdentityLocked(
                f"The account is live: {', '.join(changed)} can no longer change, because webhooks are routed "
                "by them. Delete the account and set it up again to move to another WABA, app or number.",
                details=[{"field": _path(prefix, n), "message": "locked on a live account", "type": "identity_locked"} for n in changed],
            )
    errors = [
        {"field": _path(prefix, name), "message": "This field is required.", "type": "missing"}
        for name in step.required
        if _empty(merged.get(name))
    ]
    if step.rules:
        errors += [{**error, "field": _path(prefix, error["field"])} for error in step.rules(merged)]
    if errors:
        raise FieldsInvalid(f"Step {step.number} ({step.slug}) has invalid or missing fields.", details=errors)
    _step_uniqueness(account=account, step=step, merged=merged, prefix=prefix)
    return PreparedStep(step=step, given=given, merged=merged)


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _step_uniqueness(*, account: WhatsAppAccount, step: SetupStep, merged: dict[str, Any], prefix: str) -> None:
    """Fail fast on ids another account of this workspace, or another workspace, holds."""
    tenant = tenant_current()
    if step.number == 1:
        same = WhatsAppAccount.objects.filter(waba_id=merged["waba_id"])
        if account.pk is not None:
            same = same.exclude(pk=account.pk)
        other = same.first()
        if other is not None:
            raise FieldsInvalid(
                f"The WABA {merged['waba_id']} is already set up in account {other.pk} of this workspace.",
                code="waba_exists",
                status=409,
                details=[{"field": _path(prefix, "waba_id"), "message": "already set up here", "type": "waba_exists"}],
            )
        route_claim_check(tenant=tenant, kind=MetaRoute.Kind.WABA, external_id=merged["waba_id"])
        meta_app_check(tenant=tenant, app_id=merged["app_id"])
    elif step.number == 2:
        phone = wizard_phone(account)
        phone_number_duplicate_check(phone_number_id=merged["phone_number_id"], exclude_pk=phone.pk if phone else None)


def _step_meta_checks(*, account: WhatsAppAccount, prepared: PreparedStep) -> dict[str, Any]:
    """Ask Meta what it can tell with what is known after this step; returns facts to store."""
    number = prepared.step.number
    if number not in (1, 2, 3):
        return {}
    merged = prepared.merged
    token = merged["access_token"] if number == 3 else secret_value(account.access_token)
    token = secret_value(token)
    if not token:
        return {}
    waba_id = merged.get("waba_id") if number == 1 else account.waba_id or None
    app_id = merged.get("app_id") if number == 1 else account.app_id or None
    facts: dict[str, Any] = {}
    if number in (1, 3):
        facts["token"] = token_inspect(access_token=token, waba_id=waba_id, app_id=app_id)
    phone = merged if number == 2 else setup_step_values(account=account, step=STEPS_BY_NUMBER[2])
    if waba_id and phone.get("phone_number_id"):
        try:
            numbers = meta_phone_numbers(client=GraphClient(token), waba_id=waba_id)
        except GraphError as error:
            raise meta_request_failed(error, doing=f"list the phone numbers of WABA {waba_id}") from None
        facts["phone"] = phone_number_in_waba_check(
            numbers=numbers, waba_id=waba_id, phone_number_id=phone["phone_number_id"], phone_number=phone.get("phone_number")
        )
    return facts


def setup_step_store(*, account: WhatsAppAccount, prepared: PreparedStep, facts: dict[str, Any]) -> None:
    """Write a validated step (and what Meta said about it) and mark the step saved."""
    step, given = prepared.step, prepared.given
    if account.pk is None:
        account.save()
    if step.number == 2:
        _wizard_phone_write(account=account, merged=prepared.merged, meta_fields=facts.get("phone"))
    else:
        for name, value in given.items():
            model_field = WhatsAppAccount._meta.get_field(name)
            assert isinstance(model_field, models.Field)  # the wizard's steps name concrete fields
            if value is None:  # null clears an optional field back to its default
                value = model_field.get_default()
            elif isinstance(model_field, EncryptedTextField):
                value = Secret(value)  # the same type the field hands out once loaded
            setattr(account, name, value)
    token_facts: TokenFacts | None = facts.get("token")
    if step.number == 3 and token_facts is not None:
        account.access_token_expires_at = token_facts.expires_at
    if step.number == 1 and facts.get("phone"):
        phone = wizard_phone(account)
        if phone is not None:
            phone_number_apply_meta(phone=phone, fields=facts["phone"])
            phone.save()
    account.setup_completed_steps = sorted({*(account.setup_completed_steps or []), step.number})
    account.save()
    if (
        step.number == 3
        and token_facts is not None
        and account.status == Status.UNHEALTHY
        and account.status_error_code == ErrorCode.ACCESS_TOKEN_INVALID
    ):
        account_mark_healthy(account=account)  # the new token is what was missing


def _wizard_phone_write(*, account: WhatsAppAccount, merged: dict[str, Any], meta_fields: dict | None) -> None:
    phone = wizard_phone(account) or PhoneNumber(account=account)
    if phone.pk is not None and phone.phone_number_id != merged["phone_number_id"]:
        # Another number for a draft: forget what Meta said about the old one.
        phone = PhoneNumber(pk=phone.pk, account=account, created_at=phone.created_at)
    phone.phone_number_id = merged["phone_number_id"]
    phone.e164_number = merged["phone_number"]
    phone.display_phone_number = merged["display_phone_number"]
    if meta_fields:
        phone_number_apply_meta(phone=phone, fields=meta_fields)
    phone.save()
