"""The 6-step setup wizard: save any step in any order, see progress, complete to go live.

Saving a step validates its fields (422 per field), merges them onto what was saved before
(other steps are never touched), checks with Meta what Meta can tell, then stores it. Completing
checks everything with Meta again, then in one transaction claims the WABA and its numbers in the
routing index, registers the Meta app for webhooks, activates the account and subscribes the app
to the WABA; any failure leaves no claim, app or activation behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from tenants.models import MetaRoute
from tenants.routing import meta_app_check, meta_app_register, route_claim, route_claim_check
from waba.errors import (
    AccountNotReady,
    FieldsInvalid,
    IdentityLocked,
    MetaCheckFailed,
    SetupIncomplete,
    SetupStepUnknown,
    meta_request_failed,
)
from waba.graph import GraphClient, GraphError
from waba.meta import ErrorCode
from waba.models import PhoneNumber, WhatsAppAccount
from waba.services.accounts import account_create, account_mark_healthy, tenant_current, webhook_callback_url
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


@dataclass(frozen=True)
class SetupResult:
    account: WhatsAppAccount
    callback_url: str
    verify_token: str


@dataclass
class _Prepared:
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
    prepared = _step_prepare(account=account, step=setup_step_resolve(step), data=data)
    facts = _step_meta_checks(account=account, prepared=prepared) if check_with_meta else {}
    with transaction.atomic():
        _step_write(account=account, prepared=prepared, facts=facts)
    return account


def _step_prepare(*, account: WhatsAppAccount, step: SetupStep, data: Any, prefix: str = "") -> _Prepared:
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
    return _Prepared(step=step, given=given, merged=merged)


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


def _step_meta_checks(*, account: WhatsAppAccount, prepared: _Prepared) -> dict[str, Any]:
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
    phone = setup_step_values(account=account, step=STEPS_BY_NUMBER[2])
    if number == 2:
        phone = merged
    if waba_id and phone.get("phone_number_id"):
        facts["phone"] = phone_number_in_waba_check(
            client=GraphClient(token),
            waba_id=waba_id,
            phone_number_id=phone["phone_number_id"],
            phone_number=phone.get("phone_number"),
        )
    return facts


def _step_write(*, account: WhatsAppAccount, prepared: _Prepared, facts: dict[str, Any]) -> None:
    step, given = prepared.step, prepared.given
    if account.pk is None:
        account.save()
    if step.number == 2:
        _wizard_phone_write(account=account, merged=prepared.merged, meta_fields=facts.get("phone"))
    else:
        for name, value in given.items():
            # null clears an optional field back to its default
            setattr(account, name, WhatsAppAccount._meta.get_field(name).get_default() if value is None else value)
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


# --- completing ----------------------------------------------------------------------------------


def setup_complete(*, account: WhatsAppAccount) -> SetupResult:
    """Check everything with Meta, then go live in one transaction (see the module docstring).

    Idempotent: completing a live account re-checks it and answers the same URL and token.
    """
    if account.status == Status.SUSPENDED:
        raise AccountNotReady(
            f"The account is suspended ({account.status_reason or 'by Meta'}); it cannot be set up again.",
            code="account_suspended",
        )
    progress = setup_progress(account=account)
    unfinished = [s for s in progress["steps"] if not s["completed"]]
    if unfinished:
        raise SetupIncomplete(
            "Save every step before completing: " + ", ".join(f"{s['number']} ({s['name']})" for s in unfinished) + ".",
            details=[
                {"step": s["number"], "name": s["name"], "missing_fields": s["missing_fields"]} for s in unfinished
            ],
        )
    token = secret_value(account.access_token)
    token_facts = token_inspect(access_token=token, waba_id=account.waba_id, app_id=account.app_id)
    client = GraphClient(token)
    phones = list(account.phone_numbers.all())
    try:
        meta_numbers = meta_phone_numbers(client=client, waba_id=account.waba_id)
    except GraphError as error:
        raise meta_request_failed(error, doing=f"list the phone numbers of WABA {account.waba_id}") from None
    for phone in phones:
        if phone.phone_number_id not in meta_numbers:
            raise MetaCheckFailed(
                f"The phone number {phone.phone_number_id} does not belong to the WhatsApp Business Account "
                f"{account.waba_id}.",
                code="phone_number_not_in_waba",
                details=[
                    {"field": "phone_number_id", "message": f"not a number of WABA {account.waba_id}", "type": "phone_number_not_in_waba"}
                ],
            )
    was_live = account.status in (Status.ACTIVE, Status.UNHEALTHY)
    subscribed = False
    try:
        with transaction.atomic():
            app = _go_live(account=account, phones=phones, meta_numbers=meta_numbers, token_facts=token_facts)
            client.subscribe_app(account.waba_id)  # last: a refusal rolls back everything above
            subscribed = True
    except GraphError as error:
        account.refresh_from_db()
        raise meta_request_failed(error, doing=f"subscribe the app to WABA {account.waba_id}") from None
    except BaseException:
        if subscribed and not was_live:
            _unsubscribe_quietly(client, account.waba_id)
        account.refresh_from_db()
        raise
    return SetupResult(account=account, callback_url=webhook_callback_url(app_id=account.app_id), verify_token=app.verify_token)


def _go_live(
    *, account: WhatsAppAccount, phones: list[PhoneNumber], meta_numbers: dict[str, dict], token_facts: TokenFacts
) -> Any:
    tenant = tenant_current()
    route_claim(tenant=tenant, kind=MetaRoute.Kind.WABA, external_id=account.waba_id)
    for phone in phones:
        route_claim(tenant=tenant, kind=MetaRoute.Kind.PHONE_NUMBER, external_id=phone.phone_number_id)
        phone_number_apply_meta(phone=phone, fields=meta_numbers[phone.phone_number_id])
        phone.save()
    app = meta_app_register(
        tenant=tenant,
        app_id=account.app_id,
        app_secret=secret_value(account.app_secret),
        verify_token=account.webhook_verify_token,
    )
    now = timezone.now()
    if account.status != Status.ACTIVE:
        account.status, account.status_reason, account.status_error_code = Status.ACTIVE, "", None
        account.status_changed_at = now
    account.activated_at = account.activated_at or now
    account.access_token_expires_at = token_facts.expires_at
    account.webhook_verify_token = app.verify_token
    account.save()
    return app


def _unsubscribe_quietly(client: GraphClient, waba_id: str) -> None:
    """Compensation after a failed commit: best effort, the original error is what matters."""
    try:
        client.unsubscribe_app(waba_id)
    except GraphError:
        pass


# --- all at once -----------------------------------------------------------------------------------


@transaction.atomic
def setup_all(*, data: Any) -> SetupResult:
    """The six steps and completion in one call: every step's fields are checked first (all
    errors at once, `step_key.field`), and any failure leaves nothing behind.
    """
    if not isinstance(data, dict):
        raise FieldsInvalid("The body must be a JSON object.", details=[{"field": "body", "message": "Must be a JSON object.", "type": "dict_type"}])
    errors = [
        {"field": key, "message": "Unknown field.", "type": "extra_forbidden"}
        for key in data
        if key not in {step.key for step in STEPS}
    ]
    draft = WhatsAppAccount()
    for step in STEPS:
        try:
            _step_prepare(account=draft, step=step, data=data.get(step.key, {}), prefix=step.key)
        except FieldsInvalid as error:
            if error.status != 422:  # a conflict (409) is not a field to fix in this body
                raise
            errors += error.details or []
    if errors:
        raise FieldsInvalid("The request has invalid fields.", details=errors)
    account = account_create()
    for step in STEPS:
        prepared = _step_prepare(account=account, step=step, data=data.get(step.key, {}), prefix=step.key)
        _step_write(account=account, prepared=prepared, facts={})
    return setup_complete(account=account)
