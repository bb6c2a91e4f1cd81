"""The business profile customers see on WhatsApp: kept here, pushed to every number of the account.

Meta keeps one profile per phone number (`/{phone_number_id}/whatsapp_business_profile`); the
platform keeps one per account and writes it to each of its numbers. Meta's answer to the read back
is what the stored profile shows.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from django.db import transaction
from django.utils import timezone
from pydantic import AfterValidator, StringConstraints

from waba import meta
from waba.errors import AccountNotReady
from waba.graph import GraphError
from waba.models import BusinessProfile, WhatsAppAccount
from waba.services.credentials import meta_call
from waba.validation import StrictInput, fields_parse

logger = logging.getLogger(__name__)


def _websites(value: list[str]) -> list[str]:
    value = [item.strip() for item in value if item.strip()]
    if len(value) > meta.PROFILE_WEBSITES_MAX:
        raise ValueError(f"At most {meta.PROFILE_WEBSITES_MAX} websites.")
    for item in value:
        if not item.startswith(("https://", "http://")) or len(item) > meta.PROFILE_WEBSITE_MAX_CHARS:
            raise ValueError(
                f"Each website is an http(s) URL of at most {meta.PROFILE_WEBSITE_MAX_CHARS} characters."
            )
    return value


def _vertical(value: str) -> str:
    if value and value not in meta.BUSINESS_VERTICALS:
        raise ValueError("Must be one of Meta's business categories.")
    return value


def _email(value: str) -> str:
    if value and ("@" not in value or " " in value):
        raise ValueError("Not an email address.")
    return value


class BusinessProfileInput(StrictInput):
    about: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=meta.PROFILE_ABOUT_MAX_CHARS)]
        | None
    ) = None
    address: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=meta.PROFILE_ADDRESS_MAX_CHARS)]
        | None
    ) = None
    description: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, max_length=meta.PROFILE_DESCRIPTION_MAX_CHARS)
        ]
        | None
    ) = None
    email: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=meta.PROFILE_EMAIL_MAX_CHARS),
            AfterValidator(_email),
        ]
        | None
    ) = None
    websites: Annotated[list[str], AfterValidator(_websites)] | None = None
    vertical: Annotated[str, AfterValidator(_vertical)] | None = None
    profile_picture_handle: str | None = None


def business_profile_of(*, account: WhatsAppAccount) -> BusinessProfile:
    """The stored profile; a new account's starts from what the setup wizard collected."""
    profile = BusinessProfile.objects.filter(account=account).first()
    if profile is None:
        profile = BusinessProfile(
            account=account,
            description=account.profile_description[: meta.PROFILE_DESCRIPTION_MAX_CHARS],
            email=account.profile_email,
            address=account.profile_address,
            vertical=account.profile_vertical if account.profile_vertical in meta.BUSINESS_VERTICALS else "",
            websites=[account.profile_website] if account.profile_website else [],
        )
    return profile


def business_profile_update(*, account: WhatsAppAccount, data: Any) -> BusinessProfile:
    """Validate the given fields, push them to every number of the account, then store them.

    Meta is asked first: a refusal changes nothing here.
    """
    values = fields_parse(BusinessProfileInput, data)
    changes = values.model_dump(exclude_none=True)
    if changes.get("about") == "":
        changes.pop("about")  # Meta refuses an empty about; leaving it out keeps the current one
    profile = business_profile_of(account=account)
    for name, value in changes.items():
        if name != "profile_picture_handle":
            setattr(profile, name, value)
    read_back = _push(account=account, fields=_meta_fields(profile, changes.get("profile_picture_handle")))
    with transaction.atomic():
        profile.profile_picture_url = str(read_back.get("profile_picture_url") or profile.profile_picture_url)
        profile.pushed_at = timezone.now()
        profile.save()
    return profile


def business_profile_push(*, account: WhatsAppAccount) -> BusinessProfile:
    """Write the stored profile (or the wizard's answers) to Meta, as the wizard's completion does."""
    profile = business_profile_of(account=account)
    read_back = _push(account=account, fields=_meta_fields(profile, None))
    profile.profile_picture_url = str(read_back.get("profile_picture_url") or profile.profile_picture_url)
    profile.pushed_at = timezone.now()
    profile.save()
    return profile


def business_profile_push_quietly(*, account: WhatsAppAccount) -> bool:
    """`business_profile_push` that logs a failure instead of raising (setup must not fail on it)."""
    try:
        with transaction.atomic():
            business_profile_push(account=account)
    except Exception:  # Meta or the network: the profile can be pushed again from the console
        logger.warning("business profile push failed for account %s", account.pk, exc_info=True)
        return False
    return True


def business_profile_refresh(*, account: WhatsAppAccount) -> BusinessProfile:
    """Read the profile back from Meta (the account's first number) and store what Meta says."""
    phone = account.phone_numbers.order_by("pk").first()
    if phone is None:
        raise AccountNotReady(f"The WhatsApp account {account.pk} has no phone number yet.")
    with meta_call(account=account, doing="read the business profile") as client:
        remote = client.get_business_profile(phone.phone_number_id)
    profile = business_profile_of(account=account)
    for name in ("about", "address", "description", "email", "vertical", "profile_picture_url"):
        if name in remote:
            setattr(profile, name, str(remote[name] or ""))
    if isinstance(remote.get("websites"), list):
        profile.websites = [str(w) for w in remote["websites"]]
    profile.save()
    return profile


def _meta_fields(profile: BusinessProfile, picture_handle: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "address": profile.address,
        "description": profile.description,
        "email": profile.email,
        "websites": list(profile.websites),
    }
    if profile.about:
        fields["about"] = profile.about
    if profile.vertical:
        fields["vertical"] = profile.vertical
    if picture_handle:
        fields["profile_picture_handle"] = picture_handle
    return fields


def _push(*, account: WhatsAppAccount, fields: dict[str, Any]) -> dict[str, Any]:
    """POST the fields to each number; the first number's profile as Meta then returns it."""
    phones = list(account.phone_numbers.order_by("pk"))
    if not phones:
        raise AccountNotReady(f"The WhatsApp account {account.pk} has no phone number yet.")
    with meta_call(account=account, doing="update the business profile") as client:
        for phone in phones:
            client.update_business_profile(phone.phone_number_id, fields)
        try:
            return client.get_business_profile(phones[0].phone_number_id)
        except GraphError:
            return {}
