"""Production settings: with DEBUG off the HTTPS, HSTS and cookie settings are secure by default and
`manage.py check --deploy` is clean; each is overridable from the environment; webhooks keep working
on plain HTTP and behind a TLS-terminating proxy."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings

from platform_core.env import ConfigurationError, env_header
from tests.conftest import ApiClient
from tests.messaging.factories import meta_app_create
from webhooks.meta_apps import webhook_apps_forget
from webhooks.throttle import inbound_throttle_reset

OVERRIDDEN = (
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "ENCRYPTION_KEYS",
    "DATABASE_URL",
    "ALLOWED_HOSTS",
    "PLATFORM_DOMAIN",
    "PUBLIC_HOSTS",
    "PUBLIC_BASE_URL",
    "ALLOW_DEBUG_ON_NETWORK",
    "TRUSTED_PROXY_COUNT",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_LOCKOUT_MINUTES",
    "PASSWORD_MIN_LENGTH",
    "INVITATION_TTL_HOURS",
)
SETTINGS_DUMPED = (
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
    "CSRF_TRUSTED_ORIGINS",
    "SECRET_KEY_FALLBACKS",
    "ALLOW_DEBUG_ON_NETWORK",
    "TRUSTED_PROXY_COUNT",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_TIME",
    "AUTH_PASSWORD_VALIDATORS",
    "INVITATION_TTL_HOURS",
)


def _production_env(**extra: str) -> dict[str, str]:
    """This environment without any of the settings under test, plus what production must set."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in OVERRIDDEN and not name.startswith(("SECURE_", "SESSION_", "CSRF_"))
    }
    env.update(
        DEBUG="0",
        # Never connected to: `check` without --database reads no table.
        DATABASE_URL="postgres://platform:unused@127.0.0.1:9/platform",
        SECRET_KEY=secrets.token_urlsafe(50),
        ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        PLATFORM_DOMAIN="wa.example.com",
        PUBLIC_BASE_URL="https://wa.example.com",
    )
    env.update(extra)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings_in(env: dict[str, str]) -> dict:
    code = f"import json; from django.conf import settings; print(json.dumps({{n: getattr(settings, n) for n in {SETTINGS_DUMPED!r}}}, default=str))"
    result = _manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_check_deploy_is_clean_with_debug_off_and_the_secrets_set():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_each_secure_default_can_be_turned_off_and_check_deploy_then_says_so():
    env = _production_env(
        SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0", SESSION_COOKIE_SECURE="0", CSRF_COOKIE_SECURE="0"
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 1
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, warning


@pytest.mark.slow
def test_production_defaults_and_environment_overrides():
    defaults = _settings_in(_production_env())
    assert defaults["DEBUG"] is False
    assert (
        defaults["SECURE_SSL_REDIRECT"]
        and defaults["SESSION_COOKIE_SECURE"]
        and defaults["CSRF_COOKIE_SECURE"]
    )
    assert defaults["SECURE_HSTS_SECONDS"] == 31_536_000 and defaults["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert defaults["SECURE_HSTS_PRELOAD"] is False and defaults["SECURE_PROXY_SSL_HEADER"] is None
    assert defaults["SECURE_REDIRECT_EXEMPT"] == ["^webhooks/", "^healthz$", "^readyz$"]
    assert defaults["CSRF_TRUSTED_ORIGINS"] == ["https://wa.example.com", "https://*.wa.example.com"]
    assert defaults["SECRET_KEY_FALLBACKS"] == [] and defaults["ALLOW_DEBUG_ON_NETWORK"] is False
    assert defaults["TRUSTED_PROXY_COUNT"] == 0 and defaults["INVITATION_TTL_HOURS"] == 72
    assert (defaults["AXES_FAILURE_LIMIT"], defaults["AXES_COOLOFF_TIME"]) == (5, "0:15:00")
    assert [validator["NAME"].rsplit(".", 1)[1] for validator in defaults["AUTH_PASSWORD_VALIDATORS"]] == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    assert defaults["AUTH_PASSWORD_VALIDATORS"][1]["OPTIONS"] == {"min_length": 12}

    overridden = _settings_in(
        _production_env(
            SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",
            SECURE_REDIRECT_EXEMPT="^webhooks/,^healthz$",
            SECURE_HSTS_SECONDS="3600",
            SECURE_HSTS_PRELOAD="1",
            CSRF_TRUSTED_ORIGINS="https://console.example.org",
            SECRET_KEY_FALLBACKS="old-key-one, old-key-two",
            ALLOW_DEBUG_ON_NETWORK="1",
            TRUSTED_PROXY_COUNT="1",
            LOGIN_FAILURE_LIMIT="10",
            LOGIN_LOCKOUT_MINUTES="60",
            PASSWORD_MIN_LENGTH="16",
            INVITATION_TTL_HOURS="24",
        )
    )
    assert overridden["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert overridden["SECURE_REDIRECT_EXEMPT"] == ["^webhooks/", "^healthz$"]
    assert overridden["SECURE_HSTS_SECONDS"] == 3600 and overridden["SECURE_HSTS_PRELOAD"] is True
    assert overridden["CSRF_TRUSTED_ORIGINS"] == ["https://console.example.org"]
    assert overridden["SECRET_KEY_FALLBACKS"] == ["old-key-one", "old-key-two"]
    assert overridden["ALLOW_DEBUG_ON_NETWORK"] is True and overridden["TRUSTED_PROXY_COUNT"] == 1
    assert (overridden["AXES_FAILURE_LIMIT"], overridden["AXES_COOLOFF_TIME"]) == (10, "1:00:00")
    assert overridden["AUTH_PASSWORD_VALIDATORS"][1]["OPTIONS"] == {"min_length": 16}
    assert overridden["INVITATION_TTL_HOURS"] == 24

    development = _settings_in(_production_env(DEBUG="1"))
    assert not development["SECURE_SSL_REDIRECT"] and not development["SESSION_COOKIE_SECURE"]
    assert development["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("X-Forwarded-Proto: https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("x-forwarded-ssl:on", ("HTTP_X_FORWARDED_SSL", "on")),
    ],
)
def test_proxy_header_setting_is_read_as_djangos_pair(monkeypatch, text, expected):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", text)
    assert env_header("SECURE_PROXY_SSL_HEADER") == expected


@pytest.mark.parametrize("text", ["X-Forwarded-Proto", "X-Forwarded-Proto:", "X Forwarded: https", ": https"])
def test_a_malformed_proxy_header_setting_stops_start_up_naming_it(monkeypatch, text):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", text)
    with pytest.raises(ConfigurationError, match="SECURE_PROXY_SSL_HEADER"):
        env_header("SECURE_PROXY_SSL_HEADER")


@pytest.fixture
def https_only(settings, db):
    """Production's redirect and proxy settings, for clients created after this fixture."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    webhook_apps_forget()
    inbound_throttle_reset()
    yield
    webhook_apps_forget()


def test_plain_http_is_redirected_and_https_through_the_proxy_is_served(https_only):
    plain = ApiClient("alpha.localhost").get("/admin/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://alpha.localhost/admin/login/"

    proxied = ApiClient("alpha.localhost").get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200 and proxied["Strict-Transport-Security"].startswith("max-age=3600")


def test_the_webhook_endpoint_answers_on_plain_http_and_behind_the_proxy(https_only):
    meta_app_create(app_id="4242", secret="app-secret-0123456789abcdef", verify_token="verify-me-0123")
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me-0123", "hub.challenge": "31337"}

    plain = ApiClient("localhost").get("/webhooks/whatsapp/4242", query)
    assert plain.status_code == 200 and plain.content == b"31337"
    proxied = ApiClient("localhost").get("/webhooks/whatsapp/4242", query, HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200 and proxied.content == b"31337"
