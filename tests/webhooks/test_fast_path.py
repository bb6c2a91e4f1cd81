"""The WSGI fast path serves webhooks without the middleware stack, and passes everything else to Django."""

from __future__ import annotations

import io
import json
import sys
import time
from urllib.parse import urlencode

import pytest
from django.db import connection

from tests.fixtures import load_webhook_fixture_bytes
from tests.webhooks.conftest import APP_ID, APP_SECRET, VERIFY_TOKEN
from webhooks.models import WebhookJournalEntry
from webhooks.signature import compute_signature
from webhooks.throttle import inbound_throttle_reset
from webhooks.wsgi import webhooks_fast_path

BODY = load_webhook_fixture_bytes("message_text")


class Recorder:
    """A stand-in for the Django application behind the fast path."""

    def __init__(self):
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        self.paths.append(environ["PATH_INFO"])
        start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
        return [b"django"]


def _call(
    app, path: str, *, body: bytes = BODY, host: str = "localhost", method: str = "POST", signature=None,
    query: str = "", content_length: str | None = None,
):
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "HTTP_HOST": host, "CONTENT_TYPE": "application/json", "REMOTE_ADDR": "203.0.113.9",
        "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length,
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.errors": sys.stderr,
        "HTTP_X_HUB_SIGNATURE_256": signature or compute_signature(body, APP_SECRET),
    }
    started: dict = {}

    def start_response(status, headers):
        started.update(status=status, headers=dict(headers))

    content = b"".join(app(environ, start_response))
    return started["status"], started["headers"], content


@pytest.fixture
def fast(meta_app):
    django = Recorder()
    return webhooks_fast_path(django), django


def test_a_signed_post_is_journaled_without_the_middleware(fast):
    app, django = fast

    status, headers, content = _call(app, f"/webhooks/whatsapp/{APP_ID}")

    entry = WebhookJournalEntry.objects.get()
    assert status == "200 OK"
    assert content == f'{{"accepted": {entry.pk}}}'.encode()
    assert headers["Content-Length"] == str(len(content))
    assert bytes(entry.body) == BODY
    assert django.paths == []


def test_the_same_checks_apply(fast):
    app, _ = fast

    assert _call(app, f"/webhooks/whatsapp/{APP_ID}", signature="sha256=" + "0" * 64)[0].startswith("403")
    assert _call(app, f"/webhooks/whatsapp/{APP_ID}", body=b"{nope")[0].startswith("400")
    assert _call(app, "/webhooks/whatsapp/unknown-app")[0].startswith("404")
    assert WebhookJournalEntry.objects.count() == 0


def test_refusals_carry_the_platform_error_shape_and_spend_the_address_budget(fast, settings):
    app, _ = fast
    settings.INBOUND_AUTH_FAILURE_BURST, settings.INBOUND_AUTH_FAILURE_PER_MINUTE = 2, 1
    inbound_throttle_reset()

    status, headers, content = _call(app, f"/webhooks/whatsapp/{APP_ID}", signature="sha256=" + "0" * 64)
    assert (status, headers["Content-Type"]) == ("403 Forbidden", "application/json")
    assert json.loads(content)["error"]["code"] == "invalid_signature"
    status, _, content = _call(app, f"/webhooks/whatsapp/{APP_ID}", body=b"{}" + b" " * 10, content_length="99999999")
    assert (status, json.loads(content)["error"]["code"]) == ("413 Request Entity Too Large", "payload_too_large")

    status, headers, content = _call(app, f"/webhooks/whatsapp/{APP_ID}")  # now even a good delivery waits
    assert status == "429 Too Many Requests"
    assert headers["Retry-After"] == str(json.loads(content)["error"]["details"]["retry_after_s"])
    assert json.loads(content)["error"]["code"] == "rate_limited"
    assert WebhookJournalEntry.objects.count() == 0
    inbound_throttle_reset()


def test_the_verification_handshake_and_other_methods(fast):
    app, _ = fast
    query = urlencode({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})

    status, headers, content = _call(app, f"/webhooks/whatsapp/{APP_ID}", method="GET", body=b"", query=query)
    assert (status, headers["Content-Type"], content) == ("200 OK", "text/plain", b"1158201444")

    wrong = urlencode({"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    status, _, content = _call(app, f"/webhooks/whatsapp/{APP_ID}", method="GET", body=b"", query=wrong)
    assert (status, json.loads(content)["error"]["code"]) == ("403 Forbidden", "verification_failed")

    status, headers, _ = _call(app, f"/webhooks/whatsapp/{APP_ID}", method="PUT")
    assert (status, headers["Allow"]) == ("405 Method Not Allowed", "GET, POST")


def test_the_body_is_never_read_past_its_declared_length(fast):
    """A body shorter than wsgi.input holds (a keep-alive stream) is read up to CONTENT_LENGTH only."""
    app, _ = fast
    status, _, _ = _call(app, f"/webhooks/whatsapp/{APP_ID}", body=BODY + b"GET / HTTP/1.1\r\n",
                         content_length=str(len(BODY)), signature=compute_signature(BODY, APP_SECRET))

    assert status == "200 OK"
    assert bytes(WebhookJournalEntry.objects.get().body) == BODY


def test_the_connection_is_back_in_public_even_if_a_tenant_request_left_it_elsewhere(fast, tenant_a):
    app, _ = fast
    connection.set_tenant(tenant_a)

    assert _call(app, f"/webhooks/whatsapp/{APP_ID}/")[0] == "200 OK"
    assert connection.schema_name == "public"
    assert WebhookJournalEntry.objects.count() == 1


@pytest.mark.parametrize("path,host", [
    ("/api/platform/tenants", "localhost"),
    ("/webhooks/other", "localhost"),
    ("/webhooks/whatsapp/", "localhost"),
    (f"/webhooks/whatsapp/{APP_ID}/extra", "localhost"),
    (f"/webhooks/whatsapp/{APP_ID}", "alpha.localhost"),  # not a public host: Django answers (404)
])
def test_everything_else_goes_to_django(fast, path, host):
    app, django = fast

    status, _, content = _call(app, path, host=host)

    assert (status, content) == ("418 I'm a teapot", b"django")
    assert django.paths == [path]
    assert WebhookJournalEntry.objects.count() == 0


def test_a_connection_past_its_age_is_not_closed_inside_a_transaction(fast):
    """Past CONN_MAX_AGE the fast path drops the connection, but never one inside a transaction."""
    app, _ = fast
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1

    status, _, _ = _call(app, f"/webhooks/whatsapp/{APP_ID}")

    assert status.startswith("200")
    assert WebhookJournalEntry.objects.count() == 1
