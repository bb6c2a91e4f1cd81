"""The simulated Meta's memory: every object, customer windows and conversations, behind one lock.

Endpoints take `state.lock` around each read-modify-write; nothing here does I/O, so the lock is
held for microseconds. Seeding is an upsert, so seeding the same document twice is harmless.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any, Self

from graph_simulator import ids
from graph_simulator.config import SimulatorConfig
from graph_simulator.constants import CONVERSATION_LIFETIME_S, CUSTOMER_SERVICE_WINDOW_S, MEDIA_CAPACITY
from graph_simulator.models import App, Flow, Media, PhoneNumber, SignupGrant, Template, Token, Waba
from graph_simulator.seeding import state_seed

# In the default webhook URL (`--webhook-url`), replaced by the id of the app a webhook is for.
APP_ID_PLACEHOLDER = "{app_id}"


class WebhookTarget(tuple):
    """(url, app secret) a webhook goes to; a tuple so it can key a dict."""

    __slots__ = ()

    def __new__(cls, url: str, secret: str | None) -> Self:
        return super().__new__(cls, (url, secret))

    @property
    def url(self) -> str:
        return self[0]

    @property
    def secret(self) -> str | None:
        return self[1]


class SimulatorState:
    def __init__(self, *, default_webhook_url: str | None = None, default_app_secret: str | None = None):
        self.lock = threading.RLock()
        self.default_webhook_url = default_webhook_url
        self.default_app_secret = default_app_secret
        self._clear()

    def _clear(self) -> None:
        self.config = SimulatorConfig()
        self.apps: dict[str, App] = {}
        self.wabas: dict[str, Waba] = {}
        self.phones: dict[str, PhoneNumber] = {}
        self.tokens: dict[str, Token] = {}
        self.templates: dict[str, Template] = {}
        self.template_index: dict[tuple[str, str, str], str] = {}
        self.flows: dict[str, Flow] = {}
        self.media: OrderedDict[str, Media] = OrderedDict()
        # Resumable uploads: "upload:<id>" -> session; handles they produced -> the bytes.
        self.upload_sessions: dict[str, dict[str, Any]] = {}
        self.upload_handles: dict[str, bytes] = {}
        # phone_number_id -> its business profile fields.
        self.business_profiles: dict[str, dict[str, Any]] = {}
        # (phone_number_id, wa_id) -> unix time of the customer's last message.
        self.windows: dict[tuple[str, str], float] = {}
        # (phone_number_id, wa_id, category) -> (conversation id, expiration unix time).
        self.conversations: dict[tuple[str, str, str], tuple[str, int]] = {}
        # phone_number_id -> [unix second, messages accepted in it], for enforce_throughput.
        self.throughput: dict[str, list[int]] = {}
        # Embedded Signup codes minted by the stand-in dialog -> what they grant (short-lived, not kept).
        self.signup_grants: dict[str, SignupGrant] = {}

    def reset(self) -> None:
        with self.lock:
            self._clear()

    # --- lookups ---------------------------------------------------------------------------------

    def kind_of(self, object_id: str) -> str | None:
        if object_id in self.phones:
            return "phone"
        if object_id in self.wabas:
            return "waba"
        if object_id in self.flows:
            return "flow"
        if object_id in self.media:
            return "media"
        if object_id in self.templates:
            return "template"
        if object_id in self.apps:
            return "app"
        if object_id in self.upload_sessions:
            return "upload"
        return None

    def template_find(self, waba_id: str, name: str, language: str) -> Template | None:
        template_id = self.template_index.get((waba_id, name, language))
        return self.templates.get(template_id) if template_id else None

    def template_add(self, template: Template) -> None:
        self.templates[template.id] = template
        self.template_index[(template.waba_id, template.name, template.language)] = template.id

    def template_remove(self, template: Template) -> None:
        self.templates.pop(template.id, None)
        self.template_index.pop((template.waba_id, template.name, template.language), None)

    def media_add(
        self,
        *,
        content: bytes,
        mime_type: str,
        waba_id: str | None,
        phone_number_id: str | None,
        filename: str | None = None,
    ) -> Media:
        media = Media(
            id=ids.new_graph_id(),
            waba_id=waba_id,
            phone_number_id=phone_number_id,
            mime_type=mime_type,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            filename=filename,
        )
        self.media[media.id] = media
        while len(self.media) > MEDIA_CAPACITY:
            self.media.popitem(last=False)
        return media

    def conversation_for(
        self, phone_number_id: str, wa_id: str, category: str, now: float
    ) -> tuple[str, int]:
        """The open conversation of that category, or a new one lasting 24 hours."""
        key = (phone_number_id, wa_id, category)
        current = self.conversations.get(key)
        if current is None or current[1] <= now:
            current = (ids.new_graph_id()[::-1], int(now) + CONVERSATION_LIFETIME_S)
            self.conversations[key] = current
        return current

    def webhook_targets(self, waba_id: str | None) -> list[WebhookTarget]:
        """Where a webhook about `waba_id` goes: subscribed apps, else the WABA's app, else defaults."""
        waba = self.wabas.get(waba_id) if waba_id else None
        targets: list[WebhookTarget] = []
        if waba and waba.subscriptions:
            for subscription in waba.subscriptions.values():
                app = self.apps.get(subscription.app_id)
                url = (
                    subscription.override_callback_uri
                    or (app and app.webhook_url)
                    or self.default_webhook_url_for(subscription.app_id)
                )
                secret = (app and app.app_secret) or self.default_app_secret
                if url:
                    targets.append(WebhookTarget(url, secret))
            return targets
        if self.config.require_subscription:
            return []
        app = self.apps.get(waba.app_id) if waba and waba.app_id else None
        url = (app and app.webhook_url) or self.default_webhook_url_for(waba.app_id if waba else None)
        secret = (app and app.app_secret) or self.default_app_secret
        return [WebhookTarget(url, secret)] if url else []

    def default_webhook_url_for(self, app_id: str | None) -> str | None:
        """The default webhook URL for an app seeded without one; an `{app_id}` in it becomes the
        app's id, so each app's webhooks reach its own path (none without an app)."""
        url = self.default_webhook_url
        if not url or APP_ID_PLACEHOLDER not in url:
            return url
        return url.replace(APP_ID_PLACEHOLDER, app_id) if app_id else None

    def seed(self, document: dict[str, Any]) -> dict[str, Any]:
        """Upsert apps, WABAs (with phone numbers), tokens, templates and flows; see `seeding`."""
        return state_seed(self, document)

    # --- inspection ------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything in JSON form, for `GET /_sim/state` (media without their bytes)."""
        now = time.time()
        with self.lock:
            return {
                "config": self.config.as_dict(),
                "apps": [vars(app).copy() for app in self.apps.values()],
                "wabas": [
                    waba.graph_fields()
                    | {
                        "app_id": waba.app_id,
                        "business_id": waba.business_id,
                        "subscribed_apps": [vars(s).copy() for s in waba.subscriptions.values()],
                        "phone_numbers": [p.id for p in self.phones.values() if p.waba_id == waba.id],
                    }
                    for waba in self.wabas.values()
                ],
                "phone_numbers": [
                    phone.graph_fields()
                    | {"waba_id": phone.waba_id, "has_public_key": bool(phone.business_public_key)}
                    for phone in self.phones.values()
                ],
                "tokens": [
                    {
                        "token": t.token,
                        "app_id": t.app_id,
                        "waba_ids": sorted(t.waba_ids),
                        "expires_at": t.expires_at,
                        "valid": t.valid,
                        "scopes": t.scopes,
                    }
                    for t in self.tokens.values()
                ],
                "templates": [t.graph_fields() | {"waba_id": t.waba_id} for t in self.templates.values()],
                "flows": [
                    {
                        "id": f.id,
                        "waba_id": f.waba_id,
                        "name": f.name,
                        "status": f.status,
                        "categories": f.categories,
                        "validation_errors": f.validation_errors,
                    }
                    for f in self.flows.values()
                ],
                "media": [
                    {
                        "id": m.id,
                        "mime_type": m.mime_type,
                        "file_size": len(m.content),
                        "sha256": m.sha256,
                        "phone_number_id": m.phone_number_id,
                    }
                    for m in self.media.values()
                ],
                "windows": [
                    {
                        "phone_number_id": phone_id,
                        "wa_id": wa_id,
                        "last_inbound_at": at,
                        "open": now - at < CUSTOMER_SERVICE_WINDOW_S,
                    }
                    for (phone_id, wa_id), at in self.windows.items()
                ],
            }
