"""The WSGI fast path serves webhooks without the middleware stack, and passes everything else to Django."""

from __future__ import annotations

import io
import sys
import time

import pytest
from django.db import connection

from tests.fixtures import load_webhook_fixture_bytes
from tests.webhooks.conftest import APP_ID, APP_SECRET
from webhooks.models import WebhookJournalEntry
from webhooks.signature import compute_signature
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


def _call(app, path: str, *, body: bytes = BODY, host: str = "localhost", method: str = "POST", signature=None):
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "HTTP_HOST": host, "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
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
