"""Going live: complete the wizard, or do all six steps and completion in one call.

Completing checks everything with Meta first (token, WABA, numbers), then in one transaction
claims the WABA and its numbers in the routing index, registers the Meta app for webhooks,
activates the account and, last, subscribes the app to the WABA: a refusal anywhere rolls all of
it back, and a subscription made before a failed commit is undone.

Once live, the WABA's existing templates are imported (`templates_sync`), so approved ones can be
sent as soon as completion answers. Going live does not depend on it: a failed import is logged
and answered with its reason, and the schedule `platform:waba-sync` (waba.tasks) imports them later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from platform_core.errors import DomainError
from tenants.models import MetaApp, MetaRoute
from tenants.routing import meta_app_register, route_claim
from waba.errors import AccountNotReady, FieldsInvalid, SetupIncomplete, meta_request_failed
from waba.graph import GraphClient, GraphError
from waba.models import PhoneNumber, WhatsAppAccount
from waba.services.accounts import account_create, tenant_current, webhook_callback_url
from waba.services.credentials import TokenFacts, secret_value, token_inspect
from waba.services.phone_numbers import (
    meta_phone_numbers,
    phone_number_apply_meta,
    phone_number_in_waba_check,
)
from waba.services.profile import business_profile_push_quietly
from waba.services.setup_steps import STEPS
from waba.services.templates import templates_sync
from waba.services.wizard import setup_progress, setup_step_store, setup_step_validate

logger = logging.getLogger(__name__)

Status = WhatsAppAccount.Status


@dataclass(frozen=True)
class TemplatesImport:
    """The outcome of importing the WABA's templates at completion: `templates_sync`'s counts, or
    the error that stopped it (`error_code` empty when it worked)."""

    counts: dict[str, int] = field(default_factory=dict)
    error_code: str = ""
    error_message: str = ""


@dataclass(frozen=True)
class SetupResult:
    account: WhatsAppAccount
    callback_url: str
    verify_token: str
    templates: TemplatesImport = field(default_factory=TemplatesImport)


# --- completing ----------------------------------------------------------------------------------


def setup_complete(*, account: WhatsAppAccount) -> SetupResult:
    """Check everything with Meta, then go live in one transaction (see the module docstring).

    Idempotent: completing a live account re-checks it, answers the same URL and token and
    imports the templates again.
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
        phone_number_in_waba_check(numbers=meta_numbers, waba_id=account.waba_id, phone_number_id=phone.phone_number_id)
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
    templates = templates_import(account=account)
    business_profile_push_quietly(account=account)
    return SetupResult(
        account=account,
        callback_url=webhook_callback_url(app_id=account.app_id),
        verify_token=secret_value(app.verify_token),
        templates=templates,
    )


def templates_import(*, account: WhatsAppAccount) -> TemplatesImport:
    """Import a live account's templates from Meta; a failure is logged and returned, never raised.

    Runs in a savepoint, so a failure leaves the caller's transaction usable (the one-call setup
    runs inside one). A token Meta refuses here marks the account unhealthy, as any Meta call does.
    """
    try:
        with transaction.atomic():
            counts = templates_sync(account=account)
    except DomainError as error:
        logger.warning(
            "Templates of WhatsApp account %s (WABA %s) were not imported at completion: %s: %s "
            "The schedule platform:waba-sync tries again.",
            account.pk, account.waba_id, error.code, error.message,
        )
        return TemplatesImport(error_code=error.code, error_message=error.message)
    logger.info("Imported the templates of WhatsApp account %s at completion: %s", account.pk, counts)
    return TemplatesImport(counts=counts)


def _go_live(
    *, account: WhatsAppAccount, phones: list[PhoneNumber], meta_numbers: dict[str, dict], token_facts: TokenFacts
) -> MetaApp:
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
        verify_token=secret_value(account.webhook_verify_token),
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
            setup_step_validate(account=draft, step=step, data=data.get(step.key, {}), prefix=step.key)
        except FieldsInvalid as error:
            if error.status != 422:  # a conflict (409) is not a field to fix in this body
                raise
            errors += error.details or []
    if errors:
        raise FieldsInvalid("The request has invalid fields.", details=errors)
    account = account_create()
    for step in STEPS:
        prepared = setup_step_validate(account=account, step=step, data=data.get(step.key, {}), prefix=step.key)
        setup_step_store(account=account, prepared=prepared, facts={})
    return setup_complete(account=account)
