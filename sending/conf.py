"""Settings of the send pipeline: a Django setting of the same name wins, else the environment, else the default.

They live here rather than in platform_core/settings.py so that the pipeline's knobs stay in
one place; each one can be set in the environment (twelve-factor) or overridden in tests with
`settings.NAME = ...`. Bad values stop the process with the variable's name, like every setting.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from platform_core.env import ConfigurationError, env_str
from waba import meta


def _env_number(name: str, default: float, kind: type) -> Any:
    value = env_str(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not a {kind.__name__}.") from None


DEFAULTS: dict[str, tuple[float, type]] = {
    # Per recipient from one number: about one message per 6 s, a short burst tolerated (META.md).
    "PAIR_RATE_INTERVAL_S": (meta.PAIR_RATE_INTERVAL_S, float),
    "PAIR_RATE_BURST": (3, int),
    # Pacing runs a little under a number's throughput so that network jitter never pushes a
    # wall-clock second over Meta's limit.
    "SEND_THROUGHPUT_HEADROOM": (0.97, float),
    # How far ahead a worker reserves send slots, and how many messages it claims at once.
    "SEND_RESERVE_HORIZON_S": (0.25, float),
    "SEND_CLAIM_BATCH": (250, int),
    # Retries of throttling, server errors and timeouts: exponential backoff with full jitter.
    "SEND_MAX_ATTEMPTS": (8, int),
    "SEND_BACKOFF_BASE_S": (2.0, float),
    "SEND_BACKOFF_MAX_S": (300.0, float),
    # A message whose outcome is unknown (timeout after the request left, worker killed) waits
    # this long for a status webhook carrying its id before it is sent again.
    "SEND_RECONCILE_GRACE_S": (60.0, float),
    # Threads per worker process doing Graph requests.
    "SEND_WORKER_THREADS": (16, int),
    # How often a worker looks at every active tenant (notifications wake it sooner).
    "SEND_SWEEP_INTERVAL_S": (2.0, float),
    # Tenant-wide quotas of accepted messages (each account also has its own, on the account).
    "TENANT_RATE_LIMIT_PER_MINUTE": (12_000, int),
    "TENANT_RATE_LIMIT_PER_DAY": (1_000_000, int),
    "TENANT_RATE_LIMIT_PER_MONTH": (20_000_000, int),
    # Broadcasts: most recipients per request, rows written per transaction.
    "BROADCAST_MAX_RECIPIENTS": (10_000, int),
    "BROADCAST_BATCH_SIZE": (1_000, int),
}


def send_setting(name: str) -> Any:
    """The value of one pipeline setting (see DEFAULTS)."""
    default, kind = DEFAULTS[name]
    value = getattr(settings, name, None)
    if value is not None:
        return kind(value)
    return _env_number(name, default, kind)
