"""`GET/POST /webhooks/whatsapp/<app_id>`: Meta's verification handshake and event deliveries.

The POST path is deliberately short. In order: an address refused too often (429, see
webhooks.throttle), unknown app (404), size (413, the body is read with a hard cap), signature
over the raw bytes (403), JSON (400), then one INSERT into the journal, then 200. Nothing is
stored before the signature is checked, and nothing after the INSERT can fail the request. The
404, 413 and 403 answers (and a refused verification) spend from the caller's address budget.
Parsing, routing and processing happen in the workers (webhooks.processing).

`webhook_answer` works on the request's META (or the raw WSGI environ) and a body reader, and
returns bytes, so that the WSGI fast path (webhooks.wsgi) serves Meta's POSTs without building
Django's request and response objects; `whatsapp_webhook` is the same answer as a Django view.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt

from platform_core.api import error_body
from waba.meta import WEBHOOK_PAYLOAD_MAX_BYTES, WEBHOOK_SIGNATURE_HEADER
from webhooks.journal import journal_entry_record
from webhooks.meta_apps import WebhookApp, webhook_app_get, webhook_app_refresh
from webhooks.signature import verify_signature
from webhooks.throttle import inbound_throttle, source_address, throttled_error

logger = logging.getLogger(__name__)

# Read straight from the WSGI environ: request.headers would copy every header on each request.
SIGNATURE_META_KEY = "HTTP_" + WEBHOOK_SIGNATURE_HEADER.upper().replace("-", "_")
# Answers that say the caller could not prove it is Meta (a 400 comes after a valid signature).
_REFUSALS = frozenset({403, 413})
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


def webhook_answer(*, method: str, app_id: str, meta: Mapping[str, Any], read: Callable[[int], bytes]) -> WebhookAnswer:
    """Answer one request to an app's webhook URL. `read(n)` returns at most n bytes of the body."""
    if method not in ("GET", "POST"):
        return _error(405, "method_not_allowed", "Use GET (verification) or POST (events).",
                      headers={"Allow": "GET, POST"})
    throttle, source = inbound_throttle(), source_address(meta)
    wait = throttle.blocked_for(source)
    if wait is not None:
        return _error(**throttled_error(wait))
    app = webhook_app_get(app_id=app_id)
    if app is None:
        throttle.charge(source)
        return _error(404, "unknown_app", f"No Meta app {app_id!r} is registered on this platform.")
    answer = _verify_subscription(meta, app) if method == "GET" else _receive(meta, read, app)
    if answer.status in _REFUSALS:
        throttle.charge(source)
    return answer


@csrf_exempt
def whatsapp_webhook(request: HttpRequest, app_id: str) -> HttpResponse:
    answer = webhook_answer(method=request.method or "", app_id=app_id, meta=request.META, read=request.read)
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers:
        response[name] = value
    return response


def _verify_subscription(meta: Mapping[str, Any], app: WebhookApp) -> WebhookAnswer:
    """Meta's handshake: echo `hub.challenge` when `hub.verify_token` is this app's token."""
    query = QueryDict(meta.get("QUERY_STRING", ""))
    mode = query.get("hub.mode", "")
    token = query.get("hub.verify_token", "")
    challenge = query.get("hub.challenge")
    expected = app.verify_token.reveal() if app.verify_token else ""
    token_ok = bool(expected) and hmac.compare_digest(token.encode(), expected.encode())
    if mode != "subscribe" or not token_ok:
        logger.warning("Webhook verification refused for app %s (mode %r).", app.app_id, mode)
        return _error(403, "verification_failed", "hub.mode must be 'subscribe' and hub.verify_token "
                      "must be this app's verify token.")
    if not challenge:
        return _error(400, "missing_challenge", "hub.challenge is required.")
    return WebhookAnswer(200, challenge.encode(), content_type="text/plain")


def _receive(meta: Mapping[str, Any], read: Callable[[int], bytes], app: WebhookApp) -> WebhookAnswer:
    body = _read_capped(meta, read, WEBHOOK_PAYLOAD_MAX_BYTES)
    if body is None:
        return _error(413, "payload_too_large", f"The body is larger than {WEBHOOK_PAYLOAD_MAX_BYTES} bytes.")
    if not _signature_ok(body, meta.get(SIGNATURE_META_KEY), app):
        logger.warning("Webhook for app %s refused: missing or wrong X-Hub-Signature-256.", app.app_id)
        return _error(403, "invalid_signature",
                      "X-Hub-Signature-256 is missing or is not the HMAC-SHA256 of the body "
                      "with this app's secret.")
    try:
        json.loads(body)
    except ValueError:  # also catches UnicodeDecodeError
        return _error(400, "invalid_json", "The body is not valid JSON.")
    entry_id = journal_entry_record(app_id=app.app_id, body=body, signature_verified=True)
    return WebhookAnswer(200, b'{"accepted": %d}' % entry_id)


def _signature_ok(body: bytes, header: str | None, app: WebhookApp) -> bool:
    if app.app_secret and verify_signature(body, header, app.app_secret.reveal()):
        return True
    fresh = webhook_app_refresh(app=app)  # the secret may just have been rotated
    return bool(fresh and fresh.app_secret and verify_signature(body, header, fresh.app_secret.reveal()))


def _read_capped(meta: Mapping[str, Any], read: Callable[[int], bytes], cap: int) -> bytes | None:
    """The raw body, or None when it is over `cap` bytes. Never reads more than cap + 1 bytes."""
    declared = meta.get("CONTENT_LENGTH") or "0"
    try:
        if int(declared) > cap:
            return None
    except ValueError:
        pass  # such a body reads as empty; the signature check then refuses it
    body = read(cap + 1)
    return None if len(body) > cap else body


def _error(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> WebhookAnswer:
    """`platform_core.api.error_response`, as bytes."""
    body = json.dumps(error_body(status, code, message, details)).encode()
    return WebhookAnswer(status, body, headers=tuple((headers or {}).items()))
