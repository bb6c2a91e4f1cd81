"""Which Meta apps may post to /webhooks/whatsapp/<app_id>, and their secrets.

Two sources: `tenants.models.MetaApp` rows (tenant-supplied apps, registered by the setup
wizard) and the platform's own app from the settings `META_APP_ID`, `META_APP_SECRET`,
`META_VERIFY_TOKEN`. A row wins over the settings for the same id.

The endpoint reads an app on every POST, so each process keeps what it read for a few
seconds; a signature that fails against a cached secret is checked once more against a fresh
read (throttled to one re-read per second per app), so a rotated secret works at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from platform_core.crypto import Secret
from tenants.models import MetaApp

CACHE_TTL_S = 10.0
REFRESH_MIN_INTERVAL_S = 1.0


@dataclass(frozen=True)
class WebhookApp:
    app_id: str
    app_secret: Secret | None
    verify_token: Secret | None
    # The tenant a tenant-supplied app belongs to: its webhooks may only reach that tenant.
    tenant_id: int | None
    loaded_at: float


_cache: dict[str, WebhookApp] = {}
_cache_lock = threading.Lock()


def webhook_app_load(*, app_id: str) -> WebhookApp | None:
    """Read the app from the database or the settings, bypassing the cache."""
    row = MetaApp.objects.filter(app_id=app_id).only("app_id", "app_secret", "verify_token", "tenant_id").first()
    now = time.monotonic()
    if row is not None:
        secret = row.app_secret if row.app_secret else None
        token = Secret(row.verify_token) if row.verify_token else None
        return WebhookApp(app_id=row.app_id, app_secret=secret, verify_token=token, tenant_id=row.tenant_id,
                          loaded_at=now)
    if settings.META_APP_ID and app_id == settings.META_APP_ID:
        return WebhookApp(
            app_id=app_id,
            app_secret=Secret(settings.META_APP_SECRET) if settings.META_APP_SECRET else None,
            verify_token=Secret(settings.META_VERIFY_TOKEN) if settings.META_VERIFY_TOKEN else None,
            tenant_id=None,
            loaded_at=now,
        )
    return None


def webhook_app_get(*, app_id: str) -> WebhookApp | None:
    """The app, from this process's short-lived cache when fresh. Unknown apps are not cached."""
    cached = _cache.get(app_id)
    if cached is not None and time.monotonic() - cached.loaded_at < CACHE_TTL_S:
        return cached
    return _store(app_id, webhook_app_load(app_id=app_id))


def webhook_app_refresh(*, app: WebhookApp) -> WebhookApp | None:
    """A fresh read after a failed check, unless this app was read less than a second ago."""
    if time.monotonic() - app.loaded_at < REFRESH_MIN_INTERVAL_S:
        return None
    return _store(app.app_id, webhook_app_load(app_id=app.app_id))


def webhook_apps_forget() -> None:
    """Drop the cache (tests, and after an admin changes an app in this process)."""
    with _cache_lock:
        _cache.clear()


def _store(app_id: str, app: WebhookApp | None) -> WebhookApp | None:
    with _cache_lock:
        if app is None:
            _cache.pop(app_id, None)
        else:
            _cache[app_id] = app
    return app
