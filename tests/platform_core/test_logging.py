"""The logs as `make run` prints them: each record once, and no credential in any form.

`console` collects what every stream handler configured in the process (settings.LOGGING's and any
a library added) writes, so a record printed twice shows up twice. `caplog` sees each record as it
was logged, before the console's redaction: a credential there was logged by the code itself.
"""

from __future__ import annotations

import base64
import io
import logging

import pytest

import tenants.auth
from platform_core.logging_redaction import REDACTED
from tests.conftest import ApiClient, host_of
from tests.factories import api_key_for


@pytest.fixture
def console():
    """What the process's stream handlers write during the test, in one buffer (pytest's own
    capture handlers left out)."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = {
        handler
        for logger in loggers
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler) and not type(handler).__module__.startswith("_pytest")
    }
    assert handlers, "settings.LOGGING configures a console handler"
    buffer = io.StringIO()
    previous = {handler: handler.setStream(buffer) for handler in handlers}
    yield buffer
    for handler, stream in previous.items():
        handler.setStream(stream)


def test_a_warning_is_printed_once_with_debug_on(settings, console):
    settings.DEBUG = True  # `make run`: Django's own console handler only printed with DEBUG on

    logging.getLogger("django.request").warning("Not Found: /nope")

    assert console.getvalue().count("Not Found: /nope") == 1


def test_a_basic_authorization_header_gets_401_and_is_never_logged(tenant_a, settings, caplog, console):
    settings.DEBUG = True
    password = "Tenant-admin-pa55word"
    encoded = base64.b64encode(f"admin:{password}".encode()).decode()

    with caplog.at_level(logging.INFO):
        response = ApiClient(host_of(tenant_a)).get("/api/v1/me", headers={"Authorization": f"Basic {encoded}"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    # One warning about the 401, no record of the header (not even a redacted one).
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("django.request", "WARNING", "Unauthorized: /api/v1/me")
    ]
    printed = console.getvalue()
    assert encoded not in printed
    assert password not in printed


def test_an_api_key_sent_without_the_bearer_scheme_gets_401_and_is_never_logged(tenant_a, settings, caplog, console):
    settings.DEBUG = True
    key = api_key_for(tenant_a).key

    with caplog.at_level(logging.INFO):
        response = ApiClient(host_of(tenant_a)).get("/api/v1/me", headers={"Authorization": f"Token {key}"})

    assert response.status_code == 401
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("django.request", "WARNING", "Unauthorized: /api/v1/me")
    ]
    assert key not in console.getvalue()


def test_an_error_carrying_the_api_key_reaches_the_console_redacted(tenant_a, monkeypatch, console):
    key = api_key_for(tenant_a).key
    public_part, secret_part = key[:12], key[13:]  # wak_<8 hex>_<secret>

    def failing_lookup(*, key: str, tenant: object, **context: object) -> None:
        raise RuntimeError(f"key lookup failed for {key} (Authorization: Bearer {key})")

    monkeypatch.setattr(tenants.auth, "api_key_authenticate", failing_lookup)

    response = ApiClient(host_of(tenant_a), key).get("/api/v1/me")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    printed = console.getvalue()
    assert "Unhandled API error on GET /api/v1/me" in printed
    assert "RuntimeError: key lookup failed for" in printed  # the traceback is there, redacted
    assert key not in printed
    assert secret_part not in printed
    assert f"{public_part}_{REDACTED}" in printed  # the key's public id still names it


SECRET = "s3cr3t-VALUE-0123456789"


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        (f"Authorization: Basic {SECRET}", SECRET),
        (f"Proxy-Authorization: Bearer {SECRET}", SECRET),
        (f"request META {{'HTTP_AUTHORIZATION': 'Bearer {SECRET}', 'HTTP_HOST': 'alpha.localhost'}}", SECRET),
        (f"Cookie: sessionid={SECRET}; csrftoken=abc", SECRET),
        (f"{{'HTTP_COOKIE': 'sessionid={SECRET}'}}", SECRET),
        ("X-Hub-Signature-256: sha256=" + "ab" * 32, "ab" * 32),
        ("signature mismatch: got sha256=" + "cd" * 32, "cd" * 32),
        (f"GET https://graph.facebook.com/v23.0/me?access_token={SECRET}&fields=id", SECRET),
        (f"verify: hub.mode=subscribe&hub.verify_token={SECRET}&hub.challenge=1", SECRET),
        (f'payload {{"password": "{SECRET}", "username": "admin"}}', SECRET),
        (f"{{'app_secret': '{SECRET}'}}", SECRET),
        ("token EAAGm0PX4ZCpsBAKZBZAAbcdefghijkl0123 was refused", "EAAGm0PX4ZCpsBAKZBZAAbcdefghijkl0123"),
        ("key wpk_0a1b2c3d_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_ab revoked", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
    ],
)
def test_credentials_in_any_form_are_redacted_on_the_console(message, secret, console):
    logging.getLogger("platform_core").warning("%s", message)

    printed = console.getvalue()
    assert secret not in printed
    assert REDACTED in printed


def test_ordinary_lines_are_printed_as_they_are(console):
    lines = [
        "Basic authentication is not accepted here; send a bearer key",
        "Webhook worker started (batch 20, lease 60s)",
        "Applied message_template_status_update (APPROVED) for WABA 200000000000042",
    ]
    for line in lines:
        logging.getLogger("platform_core").warning(line)

    printed = console.getvalue()
    assert all(line in printed for line in lines)
    assert REDACTED not in printed
