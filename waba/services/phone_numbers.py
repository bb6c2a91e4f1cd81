"""Phone numbers: add (claiming the number in the routing index once the account is live),
refresh from Meta, register, remove.

The facts Meta keeps about a number (quality, messaging tier, throughput, status, verified name)
are only ever written from Meta's own answers or webhooks, never from tenant input.
"""

from __future__ import annotations

from typing import Annotated, Any

import phonenumbers
from django.db import transaction
from django.utils import timezone
from pydantic import Field

from platform_core.usage_limits import PHONE_NUMBERS, usage_limit_check
from tenants.models import MetaRoute
from tenants.routing import route_claim, route_claim_check, routes_release
from waba import meta
from waba.errors import AccountNotReady, FieldsInvalid, MetaCheckFailed
from waba.graph import GraphClient
from waba.models import PhoneNumber, WhatsAppAccount
from waba.services.accounts import tenant_current
from waba.services.credentials import meta_call
from waba.validation import (
    MetaId,
    PhoneNumberInvalid,
    PhoneNumberText,
    StrictInput,
    digits_of,
    fields_parse,
    phone_number_normalise,
)

Status = WhatsAppAccount.Status


class PhoneNumberInput(StrictInput):
    phone_number_id: MetaId
    phone_number: PhoneNumberText | None = None
    display_phone_number: Annotated[str, Field(max_length=32)] | None = None


def meta_phone_numbers(*, client: GraphClient, waba_id: str) -> dict[str, dict[str, Any]]:
    """Meta's numbers of the WABA by phone_number_id (every page). Raises GraphError."""
    fields = ("id", *meta.PHONE_NUMBER_FIELDS)
    return {str(item["id"]): item for item in client.iter_phone_numbers(waba_id, fields=fields) if item.get("id")}


def phone_number_in_waba_check(
    *, numbers: dict[str, dict[str, Any]], waba_id: str, phone_number_id: str, phone_number: str | None = None
) -> dict[str, Any]:
    """Meta's fields of the number, after checking against Meta's listing of the WABA's numbers
    (`meta_phone_numbers`) that it belongs to the WABA and, when given, is `phone_number`.

    Raises MetaCheckFailed naming the field to fix.
    """
    found = numbers.get(phone_number_id)
    if found is None:
        raise MetaCheckFailed(
            f"The phone number {phone_number_id} does not belong to the WhatsApp Business Account {waba_id}. "
            f"Its numbers are: {', '.join(sorted(numbers)) or 'none'}.",
            code="phone_number_not_in_waba",
            details=[
                {"field": "phone_number_id", "message": f"not a number of WABA {waba_id}", "type": "phone_number_not_in_waba"}
            ],
        )
    meta_digits = digits_of(str(found.get("display_phone_number") or ""))
    if phone_number and meta_digits and digits_of(phone_number) != meta_digits:
        raise MetaCheckFailed(
            f"Meta knows the phone number {phone_number_id} as {found.get('display_phone_number')}, not {phone_number}.",
            code="phone_number_mismatch",
            details=[{"field": "phone_number", "message": f"Meta has {found.get('display_phone_number')}", "type": "phone_number_mismatch"}],
        )
    return found


# Meta's enumerations, stored upper-case whatever case an answer uses.
_UPPER_CASE_FIELDS = frozenset({"quality_rating", "status", "name_status", "throughput_level"})


def phone_number_meta_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The PhoneNumber field values stated by Meta's phone number object (`GET /{phone_number_id}`
    or one entry of the WABA's listing); fields Meta left out are absent.

    A throughput level comes with the messages per second it allows (`throughput_mps`), which the
    send worker paces by, so the two never disagree.
    """
    throughput = fields.get("throughput")
    level = throughput.get("level") if isinstance(throughput, dict) else throughput
    stated = {
        "display_phone_number": fields.get("display_phone_number"),
        "verified_name": fields.get("verified_name"),
        "quality_rating": fields.get("quality_rating"),
        "messaging_limit_tier": fields.get("messaging_limit_tier"),
        "status": fields.get("status"),
        "name_status": fields.get("name_status"),
        "throughput_level": level,
    }
    values: dict[str, Any] = {
        name: str(value).upper() if name in _UPPER_CASE_FIELDS else str(value)
        for name, value in stated.items()
        if value not in (None, "")
    }
    mps = meta.THROUGHPUT_MPS_BY_LEVEL.get(values.get("throughput_level", ""))
    if mps is not None:
        values["throughput_mps"] = mps
    return values


def phone_number_apply_meta(*, phone: PhoneNumber, fields: dict[str, Any]) -> list[str]:
    """Copy Meta's fields onto `phone` (not saved); returns the names of the fields that changed."""
    values = phone_number_meta_values(fields)
    if not phone.e164_number and values.get("display_phone_number"):
        try:
            values["e164_number"] = phone_number_normalise(values["display_phone_number"], possible_only=True)
        except PhoneNumberInvalid:
            pass
    changed = []
    for name, value in values.items():
        if getattr(phone, name) != value:
            setattr(phone, name, value)
            changed.append(name)
    phone.last_synced_at = timezone.now()
    return changed


def display_number_for(e164: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_number_duplicate_check(*, phone_number_id: str, exclude_pk: int | None = None) -> None:
    """Refuse a phone_number_id another account of this workspace, or another workspace, holds."""
    others = PhoneNumber.objects.filter(phone_number_id=phone_number_id)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    other = others.first()
    if other is not None:
        raise FieldsInvalid(
            f"The phone number {phone_number_id} already belongs to account {other.account_id} of this workspace.",
            code="phone_number_exists",
            status=409,
            details=[{"field": "phone_number_id", "message": "already added", "type": "phone_number_exists"}],
        )
    route_claim_check(tenant=tenant_current(), kind=MetaRoute.Kind.PHONE_NUMBER, external_id=phone_number_id)


def phone_number_add(*, account: WhatsAppAccount, data: Any) -> PhoneNumber:
    """Add a number to the account. On a live account Meta must confirm it belongs to the WABA,
    and the number is claimed in the routing index (409 `already_claimed` if another tenant has it).
    On a draft the number waits for the wizard's completion to be checked and claimed.
    """
    values = fields_parse(PhoneNumberInput, data)
    usage_limit_check(resource=PHONE_NUMBERS)
    phone_number_duplicate_check(phone_number_id=values.phone_number_id)
    phone = PhoneNumber(account=account, phone_number_id=values.phone_number_id)
    if values.phone_number:
        phone.e164_number = values.phone_number
        phone.display_phone_number = values.display_phone_number or display_number_for(values.phone_number)
    elif values.display_phone_number:
        phone.display_phone_number = values.display_phone_number
    live = account.status != Status.DRAFT
    if live:
        # Outside the transaction: a dead token found here must stay recorded on the account.
        with meta_call(account=account, doing="check the phone number") as client:
            numbers = meta_phone_numbers(client=client, waba_id=account.waba_id)
        fields = phone_number_in_waba_check(
            numbers=numbers, waba_id=account.waba_id, phone_number_id=phone.phone_number_id, phone_number=values.phone_number
        )
        phone_number_apply_meta(phone=phone, fields=fields)
    elif not values.phone_number:
        raise FieldsInvalid(
            "The request has invalid fields.",
            details=[{"field": "phone_number", "message": "Required until the account is set up.", "type": "missing"}],
        )
    with transaction.atomic():
        if live:
            route_claim(tenant=tenant_current(), kind=MetaRoute.Kind.PHONE_NUMBER, external_id=phone.phone_number_id)
        phone.save()
    return phone


def phone_numbers_refresh(*, account: WhatsAppAccount) -> dict[str, list[str]]:
    """Update every number of the account from Meta (quality, tier, throughput, status, name).

    Returns the ids `updated`, `unchanged`, and `missing` (ours, unknown to Meta: left as they are).
    """
    if not account.waba_id:
        raise AccountNotReady(f"The WhatsApp account {account.pk} has no WABA id yet: save setup step 1 first.")
    with meta_call(account=account, doing="list the phone numbers") as client:
        numbers = meta_phone_numbers(client=client, waba_id=account.waba_id)
    result: dict[str, list[str]] = {"updated": [], "unchanged": [], "missing": []}
    for phone in account.phone_numbers.all():
        fields = numbers.get(phone.phone_number_id)
        if fields is None:
            result["missing"].append(phone.phone_number_id)
            continue
        changed = phone_number_apply_meta(phone=phone, fields=fields)
        phone.save(update_fields=[*changed, "last_synced_at", "updated_at"])
        result["updated" if changed else "unchanged"].append(phone.phone_number_id)
    return result


def phone_number_register(*, phone: PhoneNumber, pin: str) -> PhoneNumber:
    """Register the number for the Cloud API with its two-step verification PIN (6 digits)."""
    if not (pin.isdigit() and len(pin) == 6):
        raise FieldsInvalid(
            "The request has invalid fields.",
            details=[{"field": "pin", "message": "Must be 6 digits.", "type": "string_pattern_mismatch"}],
        )
    with meta_call(account=phone.account, doing="register the phone number") as client:
        client.register_phone_number(phone.phone_number_id, pin)
    phone.is_registered = True
    phone.save(update_fields=["is_registered", "updated_at"])
    return phone


@transaction.atomic
def phone_number_remove(*, phone: PhoneNumber) -> None:
    """Delete the number and give up its routing entry (its messages go with it)."""
    routes_release(tenant=tenant_current(), kind=MetaRoute.Kind.PHONE_NUMBER, external_ids=[phone.phone_number_id])
    phone.delete()

