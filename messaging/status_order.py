"""Ordering of outbound message statuses, shared by webhook processing and the send pipeline.

Meta delivers status webhooks at least once and in no particular order, so a status is applied
only when it moves the message forward. The ladder is

    queued < sending < sent < failed < delivered < read

`failed` sits between `sent` and `delivered`: Meta may report a failure after `sent`, and that
failure is recorded; but `delivered` and `read` prove the message reached the user, so a late
`failed` never demotes them, and a `delivered` or `read` arriving after a `failed` wins.
Repeating the current status is not an advance, which keeps re-deliveries idempotent.
"""

from __future__ import annotations

STATUS_RANK: dict[str, int] = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
FAILED = "failed"

# Statuses that prove delivery: a failure reported after one of them is ignored.
_DELIVERY_PROOF = frozenset({"delivered", "read"})


def status_advances(current: str | None, new: str) -> bool:
    """Whether a message whose status is `current` should move to `new`.

    `current` is None when no status is recorded yet. A `current` outside the ladder is treated
    like None, so any known status replaces it. A `new` outside the ladder (Meta's `deleted`,
    `warning`, `played` ...) never advances: callers record those separately if they care.
    """
    known_current = current if current == FAILED or current in STATUS_RANK else None
    if new == FAILED:
        return known_current != FAILED and known_current not in _DELIVERY_PROOF
    if new not in STATUS_RANK:
        return False
    if known_current is None:
        return True
    if known_current == FAILED:
        return new in _DELIVERY_PROOF
    return STATUS_RANK[new] > STATUS_RANK[known_current]
