"""Which Meta apps may post to /webhooks/whatsapp/<app_id>, and their secrets.

Two sources: the platform's own app from the settings `META_APP_ID`, `META_APP_SECRET`,
`META_VERIFY_TOKEN`, and `tenants.models.MetaApp` rows (tenant-supplied apps, registered by the
setup wizard). The settings always win for their id: no row can take the platform's app over
(and tenants.routing refuses to register one).

The endpoint reads an app on every POST, so each process keeps what it read for a few
seconds; a signature that fails against a cached secret is checked once more against a fresh
read (throttled to one re-read per second per app), so a rotated secret works at once. An id
that is no app is remembered as unknown for a few seconds too, so a stream of posts to it costs
no query each; saving or deleting a MetaApp forgets its id in this process at once
(webhooks.receivers), other processes see it within UNKNOWN_TTL_S.
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
UNKNOWN_TTL_S = 5.0
UNKNOWN_MAX = 10_000  # ids remembered as unknown at once (anyone can make up ids)


@dataclass(frozen=True)
class WebhookApp:
    app_id: str
    app_secret: Secret | None
    verify_token: Secret | None
    # The tenant a tenant-supplied app belongs to: its webhooks may only reach that tenant.
    tenant_id: int | None
    loaded_at: float


_cache: dict[str, WebhookApp] = {}
_unknown: dict[str, float] = {}  # app id -> when it was found to be no app (monotonic)
_cache_lock = threading.Lock()


def webhook_app_load(*, app_id: str) -> WebhookApp | None:
    """Read the app from the settings or the database, bypassing the cache."""
    now = time.monotonic()
    if settings.META_APP_ID and app_id == settings.META_APP_ID:
        return WebhookApp(
            app_id=app_id,
            app_secret=Secret(settings.META_APP_SECRET) if settings.META_APP_SECRET else None,
            verify_token=Secret(settings.META_VERIFY_TOKEN) if settings.META_VERIFY_TOKEN else None,
            tenant_id=None,
            loaded_at=now,
        )
    row = MetaApp.objects.filter(app_id=app_id).only("app_id", "app_secret", "verify_token", "tenant_id").first()
    if row is None:
        return None
    secret = row.app_secret if row.app_secret else None
    token = row.verify_token or None
    return WebhookApp(app_id=row.app_id, app_secret=secret, verify_token=token, tenant_id=row.tenant_id,
                      loaded_at=now)


APP_ID_MAX_CHARS = 64


def _app_id_plausible(app_id: str) -> bool:
    """Meta app ids are short runs of digits; anything unprintable cannot be one (nor be queried)."""
    return 0 < len(app_id) <= APP_ID_MAX_CHARS and app_id.isascii() and app_id.isprintable()


def webhook_app_get(*, app_id: str) -> WebhookApp | None:
    """The app, from this process's short-lived cache when fresh (an unknown id included)."""
    if not _app_id_plausible(app_id):
        return None
    cached = _cache.get(app_id)
    if cached is not None and time.monotonic() - cached.loaded_at < CACHE_TTL_S:
        return cached
    unknown_since = _unknown.get(app_id)
    if unknown_since is not None and time.monotonic() - unknown_since < UNKNOWN_TTL_S:
        return None
    return _store(app_id, webhook_app_load(app_id=app_id))


def webhook_app_refresh(*, app: WebhookApp) -> WebhookApp | None:
    """A fresh read after a failed check, unless this app was read less than a second ago."""
    if time.monotonic() - app.loaded_at < REFRESH_MIN_INTERVAL_S:
        return None
    return _store(app.app_id, webhook_app_load(app_id=app.app_id))


def webhook_apps_forget() -> None:
    """Drop the cache (tests)."""
    with _cache_lock:
        _cache.clear()
        _unknown.clear()


def webhook_app_forget(*, app_id: str) -> None:
    """Forget what this process knows of one app id (a MetaApp row was saved or deleted)."""
    with _cache_lock:
        _cache.pop(app_id, None)
        _unknown.pop(app_id, None)


def _store(app_id: str, app: WebhookApp | None) -> WebhookApp | None:
    with _cache_lock:
        if app is None:
            _cache.pop(app_id, None)
            if len(_unknown) >= UNKNOWN_MAX:
                _unknown.clear()  # ids expire within seconds: starting over costs a query per id at most
            _unknown[app_id] = time.monotonic()
        else:
            _cache[app_id] = app
            _unknown.pop(app_id, None)
    return app
