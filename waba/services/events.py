"""Account-level webhook events applied to this tenant's WABA data (called by the webhook pipeline).

Runs inside the tenant's schema. Idempotent: an event identical to the last one about the same
subject (a template, a number, the account) is a redelivery and changes nothing, not even the log.
Events carrying `occurred_at` older than the last applied one for their subject are logged as
stale and not applied (Meta does not keep order).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction

from waba import meta
from waba.models import AccountEventLog, MessageTemplate, PhoneNumber, WhatsAppAccount
from waba.services.accounts import account_mark_unhealthy, account_reinstate, account_suspend
from waba.services.phone_numbers import phone_number_meta_values
from waba.validation import digits_of

logger = logging.getLogger(__name__)

Outcome = AccountEventLog.Outcome


@transaction.atomic
def account_event_apply(
    *, waba_id: str, field: str, value: dict, occurred_at: datetime | None = None
) -> None:
    """Apply one change of an account-level webhook field to the WABA `waba_id` of this tenant."""
    waba_id = str(waba_id)
    value = value if isinstance(value, dict) else {}
    subject = _subject(field, value)
    digest = hashlib.sha256(
        json.dumps([field, value], sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()
    account = WhatsAppAccount.objects.select_for_update().filter(waba_id=waba_id).first()
    last = AccountEventLog.objects.filter(waba_id=waba_id, field=field, subject=subject).order_by("-id").first()
    if last is not None and last.digest == digest:
        return
    handler = HANDLERS.get(field)
    if last is not None and occurred_at and last.occurred_at and occurred_at < last.occurred_at:
        outcome: str = Outcome.STALE
    elif account is None:
        outcome = Outcome.UNMATCHED
    elif handler is None:
        outcome = Outcome.IGNORED
    else:
        outcome = handler(account, value)
    AccountEventLog.objects.create(
        account=account,
        waba_id=waba_id,
        field=field[:64],
        event=str(value.get("event") or value.get("decision") or "")[:64],
        subject=subject[:200],
        value=value,
        digest=digest,
        outcome=outcome,
        occurred_at=occurred_at,
    )
    if outcome != Outcome.APPLIED:
        logger.info("Account event %s for WABA %s (%s): %s", field, waba_id, subject, outcome)


def _subject(field: str, value: dict) -> str:
    if field in meta.WEBHOOK_TEMPLATE_FIELDS:
        if value.get("message_template_id"):
            return f"template:{value['message_template_id']}"
        return f"template:{value.get('message_template_name')}/{value.get('message_template_language')}"
    if field in meta.WEBHOOK_PHONE_NUMBER_FIELDS:
        return f"phone:{digits_of(str(value.get('display_phone_number') or ''))}"
    return "account"


# --- templates -------------------------------------------------------------------------------------


def _template(account: WhatsAppAccount, value: dict) -> MessageTemplate | None:
    templates = MessageTemplate.objects.select_for_update().filter(account=account)
    meta_id = str(value.get("message_template_id") or "")
    template = templates.filter(meta_template_id=meta_id).first() if meta_id else None
    if template is None:
        template = templates.filter(
            name=value.get("message_template_name"), language=value.get("message_template_language")
        ).first()
        if template is not None and meta_id and not template.meta_template_id:
            template.meta_template_id = meta_id
    return template


def _template_status(account: WhatsAppAccount, value: dict) -> str:
    template = _template(account, value)
    if template is None:
        return Outcome.UNMATCHED
    status = str(value.get("event") or "").upper()
    if not status:
        return Outcome.IGNORED
    template.status = status
    reason = str(value.get("reason") or "")
    other = value.get("other_info") if isinstance(value.get("other_info"), dict) else {}
    if status == meta.TemplateStatus.APPROVED:
        template.rejection_reason = ""
    elif reason and reason != meta.TEMPLATE_NO_REASON:
        template.rejection_reason = reason[:500]
    elif other:
        template.rejection_reason = " ".join(str(other.get(k) or "") for k in ("title", "description")).strip()[:500]
    if value.get("message_template_category"):
        template.category = str(value["message_template_category"]).upper()
    template.save()
    return Outcome.APPLIED


def _template_field(field: str, key: str, max_length: int) -> Callable[[WhatsAppAccount, dict], str]:
    """A handler copying `value[key]` onto the template's `field` (quality score, category)."""

    def apply(account: WhatsAppAccount, value: dict) -> str:
        template = _template(account, value)
        if template is None:
            return Outcome.UNMATCHED
        if value.get(key):
            setattr(template, field, str(value[key]).upper()[:max_length])
        template.save()
        return Outcome.APPLIED

    return apply


# --- phone numbers ----------------------------------------------------------------------------------


def _phone(account: WhatsAppAccount, value: dict) -> PhoneNumber | None:
    digits = digits_of(str(value.get("display_phone_number") or ""))
    if not digits:
        return None
    for phone in PhoneNumber.objects.select_for_update().filter(account=account):
        if digits in (digits_of(phone.e164_number), digits_of(phone.display_phone_number)):
            return phone
    return None


QUALITY_BY_EVENT = {"FLAGGED": meta.QualityRating.RED, "UNFLAGGED": meta.QualityRating.GREEN}


def _phone_quality(account: WhatsAppAccount, value: dict) -> str:
    phone = _phone(account, value)
    if phone is None:
        return Outcome.UNMATCHED
    event = str(value.get("event") or "").upper()
    if value.get("current_limit"):
        phone.messaging_limit_tier = str(value["current_limit"])[:32]
    if event == meta.THROUGHPUT_UPGRADE_EVENT:
        # The upgrade is Meta's number object now stating the HIGH level: the same mapping applies.
        for name, changed in phone_number_meta_values({"throughput": {"level": "HIGH"}}).items():
            setattr(phone, name, changed)
    if event in QUALITY_BY_EVENT:
        phone.quality_rating = QUALITY_BY_EVENT[event].value
    phone.save()
    return Outcome.APPLIED


def _phone_name(account: WhatsAppAccount, value: dict) -> str:
    phone = _phone(account, value)
    if phone is None:
        return Outcome.UNMATCHED
    decision = str(value.get("decision") or "").upper()
    phone.name_status = decision[:32]
    if decision == "APPROVED" and value.get("requested_verified_name"):
        phone.verified_name = str(value["requested_verified_name"])[:200]
    phone.save()
    return Outcome.APPLIED


# --- the account --------------------------------------------------------------------------------------


def _account_update(account: WhatsAppAccount, value: dict) -> str:
    event = str(value.get("event") or "").upper()
    if event in meta.ACCOUNT_RESTRICTING_EVENTS:
        detail = value.get("violation_info") or value.get("restriction_info") or {}
        account_mark_unhealthy(account=account, reason=f"Meta reported {event}: {_describe(detail)}".strip(": "))
        return Outcome.APPLIED
    if event == meta.ACCOUNT_BAN_EVENT:
        state = str((value.get("ban_info") or {}).get("waba_ban_state") or "").upper()
        if state == meta.ACCOUNT_BAN_STATE_DISABLED:
            account_suspend(account=account, reason="Meta disabled this WhatsApp Business Account.")
            return Outcome.APPLIED
        if state == meta.ACCOUNT_BAN_STATE_REINSTATED:
            account_reinstate(account=account)
            return Outcome.APPLIED
        return Outcome.IGNORED
    if event == meta.ACCOUNT_DELETED_EVENT:
        account_suspend(account=account, reason="Meta deleted this WhatsApp Business Account.")
        return Outcome.APPLIED
    if event == meta.ACCOUNT_PARTNER_ADDED_EVENT:
        return _partner_added(account, value)
    return Outcome.IGNORED


def _partner_added(account: WhatsAppAccount, value: dict) -> str:
    """The business shared this WABA with the platform's app: the log row records it; the owner
    business Meta names fills the account's business id when it has none yet."""
    info = found if isinstance(found := value.get("waba_info"), dict) else {}
    owner = str(info.get("owner_business_id") or "")[:64]
    if owner and not account.business_account_id:
        account.business_account_id = owner
        account.save(update_fields=["business_account_id", "updated_at"])
    logger.info("WABA %s (account %s) is shared with the platform's app", account.waba_id, account.pk)
    return Outcome.APPLIED


def _describe(detail: Any) -> str:
    if isinstance(detail, dict):
        return ", ".join(str(item) for item in detail.values() if not isinstance(item, dict | list))
    return str(detail or "")


def _capabilities(account: WhatsAppAccount, value: dict) -> str:
    account.meta_capabilities = {**(account.meta_capabilities or {}), **value}
    account.save(update_fields=["meta_capabilities", "updated_at"])
    return Outcome.APPLIED


HANDLERS: dict[str, Callable[[WhatsAppAccount, dict], str]] = {
    "message_template_status_update": _template_status,
    "message_template_quality_update": _template_field("quality_score", "new_quality_score", 16),
    "template_category_update": _template_field("category", "new_category", 32),
    "phone_number_quality_update": _phone_quality,
    "phone_number_name_update": _phone_name,
    "account_update": _account_update,
    "business_capability_update": _capabilities,
}
