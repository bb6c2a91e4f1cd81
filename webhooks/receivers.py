"""Receivers of the webhook router (connected in WebhooksConfig.ready)."""

from __future__ import annotations

from typing import Any

from tenants.models import MetaApp, Tenant
from webhooks.meta_apps import webhook_app_forget
from webhooks.tasks import tenant_dead_letters_replay_enqueue


def meta_app_changed(sender: type[MetaApp], instance: MetaApp, **kwargs: Any) -> None:
    """A MetaApp row was saved or deleted: this process forgets what it cached for that id."""
    webhook_app_forget(app_id=instance.app_id)


def dead_letters_replay_on_resume(sender: type[Tenant], tenant: Tenant, **kwargs: Any) -> None:
    """A resumed tenant gets the webhooks that waited for it, in a background task."""
    tenant_dead_letters_replay_enqueue(tenant_id=tenant.pk)
