"""The three WABA helpers the send pipeline uses, behind one seam while issue 3 lands them.

`waba.selectors.phone_number_for_send`, `waba.services.credentials.graph_client_for` and
`waba.services.accounts.account_mark_unhealthy` are the agreed names; each function here calls
the WABA app's version when it exists and otherwise does the minimum itself. Delete the
fallbacks once waba ships all three.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from django.utils import timezone

from messaging.send.errors import PhoneNumberNotFound
from waba.graph import GraphClient
from waba.models import PhoneNumber, WhatsAppAccount

logger = logging.getLogger(__name__)


def _waba_helper(module: str, name: str) -> Any:
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


def phone_number_for_send(*, phone_number_id: str) -> PhoneNumber:
    """The tenant's number with that Meta id (and its account); 404 for any other tenant's number."""
    helper = _waba_helper("waba.selectors", "phone_number_for_send")
    try:
        if helper is not None:
            return helper(phone_number_id=phone_number_id)
        return PhoneNumber.objects.select_related("account").get(phone_number_id=phone_number_id)
    except PhoneNumber.DoesNotExist:
        raise PhoneNumberNotFound(
            f"No phone number {phone_number_id!r} in this workspace.",
            details=[{"field": "phone_number_id", "message": "not one of this workspace's numbers"}],
        ) from None


def graph_client_for(account: WhatsAppAccount) -> GraphClient:
    helper = _waba_helper("waba.services.credentials", "graph_client_for")
    if helper is not None:
        return helper(account)
    return GraphClient(access_token=account.access_token.reveal() if account.access_token else "")


def account_mark_unhealthy(*, account: WhatsAppAccount, reason: str, code: int | None = None) -> None:
    helper = _waba_helper("waba.services.accounts", "account_mark_unhealthy")
    if helper is not None:
        helper(account=account, reason=reason, code=code)
        return
    WhatsAppAccount.objects.filter(pk=account.pk).update(
        status=WhatsAppAccount.Status.UNHEALTHY,
        status_reason=(f"{reason} (Meta error {code})" if code is not None else reason)[:500],
        status_changed_at=timezone.now(),
    )
    logger.warning("Account %s marked unhealthy: %s (code %s)", account.pk, reason, code)
