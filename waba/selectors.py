"""Reads of the waba app. Everything here runs in the current tenant's schema: another tenant's
id simply does not exist here (404).
"""

from __future__ import annotations

from django.db.models import QuerySet

from platform_core.batch_memo import batch_memo
from waba.errors import AccountNotFound, PhoneNumberNotFound, TemplateNotFound
from waba.models import AccountEventLog, MessageTemplate, PhoneNumber, WhatsAppAccount


def accounts_list() -> QuerySet[WhatsAppAccount]:
    return WhatsAppAccount.objects.prefetch_related("phone_numbers").order_by("id")


def account_get(*, account_id: int) -> WhatsAppAccount:
    try:
        return WhatsAppAccount.objects.get(pk=account_id)
    except WhatsAppAccount.DoesNotExist:
        raise AccountNotFound(f"No WhatsApp account with id {account_id}.") from None


def account_for_waba(*, waba_id: str) -> WhatsAppAccount | None:
    return WhatsAppAccount.objects.filter(waba_id=waba_id).first()


def phone_numbers_of(*, account: WhatsAppAccount) -> QuerySet[PhoneNumber]:
    return account.phone_numbers.order_by("id")


def phone_numbers_filter(
    *, account_id: int | None = None, status: str | None = None, quality_rating: str | None = None
) -> QuerySet[PhoneNumber]:
    """Numbers of every account, optionally of one account, by status and quality (any case), by id."""
    numbers = PhoneNumber.objects.all()
    if account_id is not None:
        numbers = numbers.filter(account_id=account_id)
    if status:
        numbers = numbers.filter(status=status.upper())
    if quality_rating:
        numbers = numbers.filter(quality_rating=quality_rating.upper())
    return numbers.order_by("id")


def phone_number_get(*, phone_id: int) -> PhoneNumber:
    try:
        return PhoneNumber.objects.select_related("account").get(pk=phone_id)
    except PhoneNumber.DoesNotExist:
        raise PhoneNumberNotFound(f"No phone number with id {phone_id}.") from None


def phone_number_for_send(*, phone_number_id: str) -> PhoneNumber:
    """The number with this Meta phone_number_id, with its account (one query; once per batch of
    webhook changes, whose replies all leave from a few numbers).

    Raises PhoneNumberNotFound (404) for a number this tenant does not have. Whether the account
    may send (`account.can_send`) is for the caller to decide.
    """
    try:
        return batch_memo(
            ("waba.phone_for_send", phone_number_id),
            lambda: PhoneNumber.objects.select_related("account").get(phone_number_id=phone_number_id),
        )
    except PhoneNumber.DoesNotExist:
        raise PhoneNumberNotFound(
            f"No phone number {phone_number_id!r} in this workspace.",
            details=[{"field": "phone_number_id", "message": "not one of this workspace's numbers"}],
        ) from None


def templates_filter(
    *,
    account_id: int | None = None,
    status: str | None = None,
    category: str | None = None,
    language: str | None = None,
    name: str | None = None,
) -> QuerySet[MessageTemplate]:
    """Templates, optionally of one account, by exact status, category, language; name contains."""
    templates = MessageTemplate.objects.all()
    if account_id is not None:
        templates = templates.filter(account_id=account_id)
    if status:
        templates = templates.filter(status=status.upper())
    if category:
        templates = templates.filter(category=category.upper())
    if language:
        templates = templates.filter(language=language)
    if name:
        templates = templates.filter(name__icontains=name)
    return templates.order_by("account_id", "name", "language")


def template_get(*, template_id: int) -> MessageTemplate:
    try:
        return MessageTemplate.objects.select_related("account").get(pk=template_id)
    except MessageTemplate.DoesNotExist:
        raise TemplateNotFound(f"No template with id {template_id}.") from None


def template_find(*, account: WhatsAppAccount, name: str, language: str) -> MessageTemplate | None:
    """The account's template with this name and language (for sends), or None."""
    return MessageTemplate.objects.filter(account=account, name=name, language=language).first()


def account_events(*, account: WhatsAppAccount, limit: int = 100) -> list[AccountEventLog]:
    return list(AccountEventLog.objects.filter(account=account).order_by("-id")[:limit])
