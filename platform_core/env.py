"""Typed readers for settings that come from the environment.

They fail loudly on bad values: a typo in an environment variable should stop
start-up with a message naming the variable, not fall back silently.
"""

from __future__ import annotations

import os
from typing import overload


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ConfigurationError(f"{name}={value!r} is below its minimum of {minimum}.")
    return number


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not a number.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = env_str(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


LOG_LEVEL_NAMES = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def env_log_levels(name: str) -> dict[str, str]:
    """`logger:LEVEL,other.logger:LEVEL` as {logger: LEVEL}."""
    levels: dict[str, str] = {}
    for item in env_list(name):
        logger, _, level = item.rpartition(":")
        if not logger or level.upper() not in LOG_LEVEL_NAMES:
            raise ConfigurationError(
                f"{name}: {item!r} is not logger:LEVEL with LEVEL one of {', '.join(LOG_LEVEL_NAMES)}."
            )
        levels[logger] = level.upper()
    return levels


def env_header(name: str) -> tuple[str, str] | None:
    """`Header-Name: value` as Django's (`HTTP_HEADER_NAME`, `value`) pair, e.g. for SECURE_PROXY_SSL_HEADER."""
    text = env_str(name)
    if text is None:
        return None
    header, separator, value = text.partition(":")
    header, value = header.strip(), value.strip()
    if not separator or not value or not header or not all(char.isalnum() or char == "-" for char in header):
        raise ConfigurationError(f"{name}={text!r} is not 'Header-Name: value', e.g. 'X-Forwarded-Proto: https'.")
    return "HTTP_" + header.upper().replace("-", "_"), value
