"""Checks a higher layer runs before a lower one creates something a plan limits.

The layers that create billable things (sending queues messages, waba adds accounts and numbers,
tenants invites users) sit below billing, which knows the plans. They call `usage_limit_check`; billing registers its check
in its AppConfig.ready(). A check refuses by raising a DomainError, which leaves the caller before
anything is written. With nothing registered every call is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class UsageLimitCheck(Protocol):
    def __call__(self, *, resource: str, amount: int, category: str) -> None: ...


# Resources a check is asked about.
MESSAGES = "messages"
ACCOUNTS = "accounts"
PHONE_NUMBERS = "phone_numbers"
USERS = "users"

_checks: list[UsageLimitCheck] = []


def usage_limit_register(check: UsageLimitCheck) -> None:
    """Add `check` once (registering the same function again changes nothing)."""
    if check not in _checks:
        _checks.append(check)


def usage_limit_check(*, resource: str, amount: int = 1, category: str = "") -> None:
    """Run every registered check for `amount` more of `resource` (messages of `category`), in the
    schema of the tenant that would get them."""
    for check in _checks:
        check(resource=resource, amount=amount, category=category)


def usage_limit_checks() -> list[Callable[..., None]]:
    return list(_checks)
