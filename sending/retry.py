"""What to do with a message after a failed Graph request: the one place that decides.

Throttling, server errors and timeouts are retried with exponential backoff and full jitter
(never sooner than Meta's Retry-After), up to SEND_MAX_ATTEMPTS; a dead token or a restricted
account stops the account instead of burning retries; everything else fails at once with Meta's
code, title and details. A timeout after the request left is neither: Meta may have accepted it,
so the message waits for reconciliation rather than being sent again blindly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from platform_core.backoff import backoff_delay
from waba.graph.errors import GraphError, GraphUnavailable
from waba.meta import ErrorAction


class Next(StrEnum):
    RETRY = "retry"
    FAIL = "fail"
    RECONCILE = "reconcile"  # outcome unknown: wait for a status webhook before sending again
    STOP_ACCOUNT = "stop_account"  # token dead or account restricted: the message waits, queued


@dataclass(frozen=True)
class Decision:
    next: Next
    delay_s: float = 0.0
    code: int | None = None
    title: str = ""
    details: str = ""


def decision_for_error(error: GraphError, *, attempts: int) -> Decision:
    """`attempts` counts the attempt that just failed."""
    title, details = error.message, error.details or ""
    if isinstance(error, GraphUnavailable) and error.may_have_been_processed:
        return Decision(Next.RECONCILE, settings.SEND_RECONCILE_GRACE_S, None, f"Outcome unknown: {title}")
    action = error.action
    if action in (ErrorAction.AUTH_INVALID, ErrorAction.ACCOUNT_RESTRICTED):
        return Decision(Next.STOP_ACCOUNT, 0.0, error.code, title, details)
    if error.retryable:
        max_attempts = settings.SEND_MAX_ATTEMPTS
        if attempts >= max_attempts:
            return Decision(Next.FAIL, 0.0, error.code, f"Gave up after {attempts} attempts: {title}", details)
        # Meta's Retry-After when it sent one; a recipient's pair rate always needs its interval.
        at_least = error.retry_after_header_s
        if at_least is None and action == ErrorAction.PAIR_RATE:
            at_least = settings.PAIR_RATE_INTERVAL_S
        delay = max(
            at_least or 0.0,
            backoff_delay(
                retry=attempts - 1,
                base_s=settings.SEND_BACKOFF_BASE_S,
                max_s=settings.SEND_BACKOFF_MAX_S,
            ),
        )
        return Decision(Next.RETRY, delay, error.code, title, details)
    return Decision(Next.FAIL, 0.0, error.code, title, details)
