"""Embedded Signup ("Connect with Facebook"): connect a number from what Facebook's window handed
the browser, a short-lived code plus the shared WABA id and phone number id.

`embedded_signup_complete` does, in this order:
1. a live account of this workspace already holding that WABA and number is answered as it is
   (a retried completion: the code was used the first time); ids another workspace owns are refused;
   a live Embedded Signup account of this workspace holding the WABA but not the number gets the
   number added (see `_number_add`);
2. the code is exchanged for the business's token with the platform's app (`GET /oauth/access_token`);
3. Meta confirms what was shared: the token sees the WABA (`debug_token` granular scopes), the
   WABA (`GET /{waba-id}`) and that the number is one of its numbers (`GET /{waba-id}/phone_numbers`);
4. in one transaction the account (token encrypted, the wizard's six steps saved, active), its
   number and both routing claims are written, then the app is subscribed
   (`POST /{waba-id}/subscribed_apps`) and the number registered (`POST /{phone-number-id}/register`
   with a 6-digit PIN): a refusal rolls the rows back and undoes the subscription;
5. once committed, the WABA's templates are imported, as completing the wizard does.

So a failure leaves nothing behind: the business starts "Connect with Facebook" again. The
account runs on the platform's own Meta app (settings META_APP_ID), whose webhooks are verified with
META_APP_SECRET, so no tenant app is registered in the routing index.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import StringConstraints

from platform_core.crypto import Secret
from platform_core.errors import DomainError
from platform_core.usage_limits import ACCOUNTS, PHONE_NUMBERS, usage_limit_check
from tenants.models import MetaRoute
from tenants.routing import meta_app_is_reserved, route_claim, route_claim_check
from waba.errors import FieldsInvalid, MetaCheckFailed, meta_request_failed
from waba.graph import GraphClient, GraphError
from waba.meta import ErrorCode
from waba.models import PhoneNumber, WhatsAppAccount
from waba.services.accounts import tenant_current
from waba.services.activation import TemplatesImport, templates_import
from waba.services.credentials import TokenFacts, token_inspect
from waba.services.phone_numbers import (
    meta_phone_numbers,
    phone_number_apply_meta,
    phone_number_in_waba_check,
)
from waba.services.setup_steps import DEFAULT_SUBSCRIBED_FIELDS, STEPS
from waba.validation import MetaId, StrictInput, fields_parse

logger = logging.getLogger(__name__)

Status = WhatsAppAccount.Status

# Meta's OAuth subcodes for a code that cannot be redeemed (again).
CODE_EXPIRED_SUBCODE = 36007
CODE_USED_SUBCODE = 36009
PIN_MISMATCH_CODE = 133005
START_AGAIN = "Click \"Connect with Facebook\" again to get a new one."


class EmbeddedSignupNotConfigured(DomainError):
    """The platform's Meta app (id and secret) is not set, or Meta refuses it."""

    code = "embedded_signup_not_configured"
    status = 503


class SignupCodeRejected(DomainError):
    """The code from Facebook's window cannot be exchanged (used, expired or not Meta's)."""

    code = "signup_code_invalid"
    status = 400


class WabaNotShared(DomainError):
    code = "waba_not_shared"
    status = 422


class RegistrationFailed(DomainError):
    code = "phone_number_registration_failed"
    status = 422


class EmbeddedSignupInput(StrictInput):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
    waba_id: MetaId
    phone_number_id: MetaId
    pin: Annotated[str, StringConstraints(pattern=r"^\d{6}$")] | None = None


@dataclass(frozen=True)
class EmbeddedSignupResult:
    account: WhatsAppAccount
    created: bool  # False when a retried completion found the account already connected
    phone_number_added: bool = False  # True when the number joined an account of the same WABA
    pin: str = ""  # the two-step verification PIN chosen here for the number (shown once), else ""
    templates: TemplatesImport = TemplatesImport()


def embedded_signup_available() -> bool:
    return bool(settings.META_APP_ID and settings.META_APP_SECRET)


def embedded_signup_connected(*, account: WhatsAppAccount) -> bool:
    """Whether the account runs on the platform's own app, as Embedded Signup connects them."""
    return bool(account.app_id) and meta_app_is_reserved(account.app_id)


def embedded_signup_complete(*, data: Any) -> EmbeddedSignupResult:
    """Connect the shared WABA and number as a live account of this workspace (see the module
    docstring). Idempotent for a retried completion. `data`: `code`, `waba_id`, `phone_number_id`
    and optionally the number's `pin` (generated when left out).
    """
    values = fields_parse(EmbeddedSignupInput, data)
    if not embedded_signup_available():
        raise EmbeddedSignupNotConfigured(
            "Connecting with Facebook is not set up on this platform (its Meta app id and secret are "
            "missing). Use the manual setup instead, or ask the platform's operators."
        )
    existing = _connected_account(waba_id=values.waba_id, phone_number_id=values.phone_number_id)
    if existing is not None and existing.phone_numbers.filter(phone_number_id=values.phone_number_id).exists():
        return EmbeddedSignupResult(account=existing, created=False)
    tenant = tenant_current()
    route_claim_check(tenant=tenant, kind=MetaRoute.Kind.WABA, external_id=values.waba_id)
    route_claim_check(tenant=tenant, kind=MetaRoute.Kind.PHONE_NUMBER, external_id=values.phone_number_id)
    if existing is None:
        usage_limit_check(resource=ACCOUNTS)
    usage_limit_check(resource=PHONE_NUMBERS)

    token = _code_exchange(code=values.code)
    token_facts = _shared_waba_check(token=token, waba_id=values.waba_id)
    client = GraphClient(token)
    try:
        waba = client.get_business_account(values.waba_id)
        numbers = meta_phone_numbers(client=client, waba_id=values.waba_id)
    except GraphError as error:
        raise meta_request_failed(error, doing=f"read the shared WhatsApp Business Account {values.waba_id}") from None
    phone_fields = phone_number_in_waba_check(
        numbers=numbers, waba_id=values.waba_id, phone_number_id=values.phone_number_id
    )
    pin = values.pin or f"{secrets.randbelow(10**6):06d}"
    if existing is not None:
        _number_add(
            account=existing, client=client, token=token, token_facts=token_facts, phone_fields=phone_fields, pin=pin
        )
        logger.info(
            "Phone number %s added to WhatsApp account %s through Embedded Signup (WABA %s)",
            values.phone_number_id, existing.pk, existing.waba_id,
        )
        return EmbeddedSignupResult(
            account=existing, created=False, phone_number_added=True, pin="" if values.pin else pin
        )
    account = _connect(
        client=client, token=token, token_facts=token_facts, waba=waba, phone_fields=phone_fields, pin=pin
    )
    logger.info("WhatsApp account %s connected through Embedded Signup (WABA %s)", account.pk, account.waba_id)
    return EmbeddedSignupResult(
        account=account, created=True, pin="" if values.pin else pin, templates=templates_import(account=account)
    )


def _connected_account(*, waba_id: str, phone_number_id: str) -> WhatsAppAccount | None:
    """This workspace's live account of the WABA, else None: one holding the number (a retried
    completion) or, connected through Embedded Signup, one the number can join.

    An account of the WABA in another state (a draft of the manual wizard, a suspended one) or on
    the workspace's own Meta app without this number is a conflict to settle by hand.
    """
    account = WhatsAppAccount.objects.filter(waba_id=waba_id).first()
    if account is None:
        return None
    has_number = account.phone_numbers.filter(phone_number_id=phone_number_id).exists()
    live = account.status in (Status.ACTIVE, Status.UNHEALTHY)
    if live and (has_number or embedded_signup_connected(account=account)):
        return account
    raise FieldsInvalid(
        f"The WABA {waba_id} is already in account {account.pk} of this workspace ({account.get_status_display()}"
        f"{'' if has_number else f', without the number {phone_number_id}'}). Finish or delete that account "
        "first, or add the number on its page.",
        code="waba_exists",
        status=409,
        details=[{"field": "waba_id", "message": f"already in account {account.pk}", "type": "waba_exists"}],
    )


def _code_exchange(*, code: str) -> str:
    try:
        answer = GraphClient("").exchange_code(
            app_id=settings.META_APP_ID, app_secret=settings.META_APP_SECRET, code=code
        )
    except GraphError as error:
        raise _code_refused(error) from None
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise EmbeddedSignupNotConfigured("Meta answered the code exchange without an access token. " + START_AGAIN)
    return token


def _code_refused(error: GraphError) -> DomainError:
    if error.retryable and error.error_type != "OAuthException":
        return meta_request_failed(error, doing="exchange the sign-in code")
    if error.code == ErrorCode.INVALID_PARAMETER:
        if error.subcode == CODE_USED_SUBCODE:
            return SignupCodeRejected(
                f"This Facebook sign-in code was already used: each code works once. {START_AGAIN}",
                code="signup_code_used",
            )
        if error.subcode == CODE_EXPIRED_SUBCODE:
            return SignupCodeRejected(
                f"This Facebook sign-in code has expired: it must be used within seconds. {START_AGAIN}",
                code="signup_code_expired",
            )
        return SignupCodeRejected(f"Meta does not accept this sign-in code ({error.message}). {START_AGAIN}")
    logger.error("Meta refused the platform app in the Embedded Signup code exchange: %s", error)
    return EmbeddedSignupNotConfigured(
        f"Meta refused the platform's app while exchanging the sign-in code ({error.message}). The platform's "
        "operators must check META_APP_ID and META_APP_SECRET; meanwhile use the manual setup."
    )


def _shared_waba_check(*, token: str, waba_id: str) -> TokenFacts:
    try:
        return token_inspect(access_token=token, waba_id=waba_id, app_id=settings.META_APP_ID)
    except MetaCheckFailed as error:
        if error.code != "token_cannot_see_waba":
            raise
        raise WabaNotShared(
            f"The WhatsApp Business Account {waba_id} was not shared with this platform during the sign-up. "
            f"{START_AGAIN} and select that account when Facebook asks which one to share.",
            details=[{"field": "waba_id", "message": "not shared with the platform's app", "type": "waba_not_shared"}],
        ) from None


def _connect(
    *,
    client: GraphClient,
    token: str,
    token_facts: TokenFacts,
    waba: dict[str, Any],
    phone_fields: dict[str, Any],
    pin: str,
) -> WhatsAppAccount:
    waba_id = str(waba.get("id") or "")
    subscribed = False
    try:
        with transaction.atomic():
            account = _account_write(waba=waba, phone_fields=phone_fields, token=token, token_facts=token_facts)
            client.subscribe_app(waba_id)
            subscribed = True
            _register(client=client, phone=account.phone_numbers.get(), pin=pin)
    except GraphError as error:
        if subscribed:
            _unsubscribe_quietly(client, waba_id)
        raise meta_request_failed(error, doing=f"subscribe the platform's app to WABA {waba_id}") from None
    except BaseException:
        if subscribed:
            _unsubscribe_quietly(client, waba_id)
        raise
    return account


def _account_write(
    *, waba: dict[str, Any], phone_fields: dict[str, Any], token: str, token_facts: TokenFacts
) -> WhatsAppAccount:
    """The account as the six wizard steps would leave it, live, with its number and routing claims."""
    tenant = tenant_current()
    owner = waba.get("owner_business_info")
    business_id = owner.get("id") if isinstance(owner, dict) else None
    name = str(waba.get("name") or phone_fields.get("verified_name") or "")[:200]
    now = timezone.now()
    account = WhatsAppAccount.objects.create(
        display_name=name,
        waba_id=str(waba["id"]),
        business_account_id=str(business_id or ""),
        app_id=settings.META_APP_ID,
        access_token=Secret(token),
        access_token_expires_at=token_facts.expires_at,
        # Meta verifies the platform app's callback with META_VERIFY_TOKEN, which stays the platform's.
        webhook_verify_token=Secret(secrets.token_urlsafe(24)),
        profile_name=str(phone_fields.get("verified_name") or name)[:200],
        subscribed_fields=list(DEFAULT_SUBSCRIBED_FIELDS),
        setup_completed_steps=[step.number for step in STEPS],
        status=Status.ACTIVE,
        status_changed_at=now,
        activated_at=now,
    )
    route_claim(tenant=tenant, kind=MetaRoute.Kind.WABA, external_id=account.waba_id)
    phone = PhoneNumber(account=account, phone_number_id=str(phone_fields["id"]))
    phone_number_apply_meta(phone=phone, fields=phone_fields)
    phone.save()
    route_claim(tenant=tenant, kind=MetaRoute.Kind.PHONE_NUMBER, external_id=phone.phone_number_id)
    return account


def _number_add(
    *,
    account: WhatsAppAccount,
    client: GraphClient,
    token: str,
    token_facts: TokenFacts,
    phone_fields: dict[str, Any],
    pin: str,
) -> PhoneNumber:
    """Add a number of the account's WABA and register it, in one transaction: a refusal leaves the
    account as it was. The app's subscription to the WABA stays as it is (the account's other
    numbers live on it). The account keeps the newest grant's token, the one Meta just confirmed.
    """
    tenant = tenant_current()
    with transaction.atomic():
        locked = WhatsAppAccount.objects.select_for_update().get(pk=account.pk)
        phone = PhoneNumber(account=locked, phone_number_id=str(phone_fields["id"]))
        phone_number_apply_meta(phone=phone, fields=phone_fields)
        phone.save()
        route_claim(tenant=tenant, kind=MetaRoute.Kind.PHONE_NUMBER, external_id=phone.phone_number_id)
        _register(client=client, phone=phone, pin=pin)
        locked.access_token = Secret(token)
        locked.access_token_expires_at = token_facts.expires_at
        locked.save(update_fields=["access_token", "access_token_expires_at", "updated_at"])
    account.refresh_from_db()
    return phone


def _register(*, client: GraphClient, phone: PhoneNumber, pin: str) -> None:
    """Register the number for the Cloud API, then store what Meta says about it afterwards."""
    try:
        client.register_phone_number(phone.phone_number_id, pin)
        fields = client.get_phone_number(phone.phone_number_id)
    except GraphError as error:
        raise _registration_failed(error, phone_number_id=phone.phone_number_id) from None
    phone_number_apply_meta(phone=phone, fields=fields)
    phone.is_registered = True
    phone.save()


def _registration_failed(error: GraphError, *, phone_number_id: str) -> DomainError:
    if error.retryable:
        return meta_request_failed(error, doing=f"register the phone number {phone_number_id}")
    if error.code == PIN_MISMATCH_CODE:
        advice = (
            "The number already has a two-step verification PIN: send it as `pin` (6 digits), or turn "
            "two-step verification off for the number in WhatsApp Manager, then connect again."
        )
    else:
        advice = (
            "Check the number in WhatsApp Manager (verified, and not in use on another WhatsApp "
            f"account), then connect again. {START_AGAIN}"
        )
    return RegistrationFailed(
        f"Meta refused to register the phone number {phone_number_id}: {error.message}. Nothing was connected. {advice}",
        details={"meta_code": error.code, "meta_subcode": error.subcode, "meta_message": error.message,
                 "fbtrace_id": error.fbtrace_id},
    )


def _unsubscribe_quietly(client: GraphClient, waba_id: str) -> None:
    """Compensation after a failed connection: best effort, the original error is what matters."""
    try:
        client.unsubscribe_app(waba_id)
    except GraphError:
        logger.warning("Could not undo the subscription to WABA %s after a failed Embedded Signup", waba_id)
