"""The tunables of health checks, roll-ups and clean-up: one place, each with its default.

A Django setting of the same name wins (tests set `settings.NAME`), else the environment
variable, else the default; bad values stop with the variable's name. Functions, not constants,
so a changed setting is seen at once.
"""

from __future__ import annotations

from django.conf import settings

from platform_core.env import ConfigurationError, env_int


def _int_setting(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = env_int(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{name}={value!r} must be a non-negative whole number.")
    return value


def health_check_interval_minutes() -> int:
    return _int_setting("HEALTH_CHECK_INTERVAL_MINUTES", 15)


def health_unreachable_threshold() -> int:
    """Consecutive checks without an answer from the Graph API that make an account unhealthy."""
    return _int_setting("HEALTH_UNREACHABLE_THRESHOLD", 3)


def health_token_expiry_warning_days() -> int:
    return _int_setting("HEALTH_TOKEN_EXPIRY_WARNING_DAYS", 7)


def health_check_budget_s() -> int:
    """Stop looking at further numbers after this long, well inside the task's timeout."""
    return _int_setting("HEALTH_CHECK_BUDGET_S", 30)


def health_log_retention_days() -> int:
    return _int_setting("HEALTH_LOG_RETENTION_DAYS", 90)


def rollup_recompute_days() -> int:
    """How many past days the daily roll-up recomputes, so late statuses are counted."""
    return _int_setting("ROLLUP_RECOMPUTE_DAYS", 3)


def webhook_journal_retention_days() -> int:
    return _int_setting("WEBHOOK_JOURNAL_RETENTION_DAYS", 14)


def webhook_journal_prune_batch_size() -> int:
    return _int_setting("WEBHOOK_JOURNAL_PRUNE_BATCH_SIZE", 5_000)
