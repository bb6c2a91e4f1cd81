"""Keep the public health summary's account count current when an account comes or goes.

The health checks visit only tenants whose summary counts accounts (tenants.health_summary), so a
tenant's first account (the setup wizard, Embedded Signup, the API, the admin) must reach the
summary before any check has run: its creation stores the summary, in the creating transaction.
A deletion stores it too, so the list drops the account and a tenant left without any is no
longer visited.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django_tenants.utils import get_public_schema_name

from analytics.health import health_summary_refresh
from tenants.context import connection
from waba.models import WhatsAppAccount


def _summary_refresh() -> None:
    if connection.schema_name and connection.schema_name != get_public_schema_name():
        health_summary_refresh()


def account_saved(sender: Any, instance: WhatsAppAccount, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        _summary_refresh()


def account_deleted(sender: Any, instance: WhatsAppAccount, **kwargs: Any) -> None:
    _summary_refresh()


def connect() -> None:
    post_save.connect(account_saved, sender=WhatsAppAccount, dispatch_uid="analytics.account_saved")
    post_delete.connect(account_deleted, sender=WhatsAppAccount, dispatch_uid="analytics.account_deleted")
