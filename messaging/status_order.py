"""Message statuses: the vocabulary, its order and its named groups, for every app of the platform.

Meta delivers status webhooks at least once and in no particular order, so a status is applied
only when it moves the message forward. The ladder is

    queued < sending < sent < failed < delivered < read

`failed` sits between `sent` and `delivered`: Meta may report a failure after `sent`, and that
failure is recorded; but `delivered` and `read` prove the message reached the user, so a late
`failed` never demotes them, and a `delivered` or `read` arriving after a `failed` wins.
Repeating the current status is not an advance, which keeps re-deliveries idempotent.
"""

from __future__ import annotations

from django.db import models

from waba import meta


class MessageStatus(models.TextChoices):
    """Every status a message can have: the one vocabulary (the model's `Message.Status`).

    The statuses Meta reports keep Meta's own names (waba.meta); the others are ours.
    """

    RECEIVED = "received", "Received"  # inbound
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = str(meta.MessageStatus.SENT), "Sent"
    DELIVERED = str(meta.MessageStatus.DELIVERED), "Delivered"
    READ = str(meta.MessageStatus.READ), "Read"
    FAILED = str(meta.MessageStatus.FAILED), "Failed"


S = MessageStatus
STATUS_RANK: dict[str, int] = {S.QUEUED: 0, S.SENDING: 1, S.SENT: 2, S.DELIVERED: 3, S.READ: 4}
FAILED = S.FAILED

# Still in the outbox: not yet accepted by Meta (a list, as the model's index condition needs it).
IN_OUTBOX = [S.QUEUED, S.SENDING]
# Accepted by Meta, and no failure reported since.
ACCEPTED = (S.SENT, S.DELIVERED, S.READ)
# Out of the outbox: accepted by Meta (whatever came next) or given up.
LEFT_OUTBOX = (*ACCEPTED, S.FAILED)
# Statuses that prove delivery: a failure reported after one of them is ignored.
DELIVERY_PROOF = frozenset({S.DELIVERED, S.READ})


def status_advances(current: str | None, new: str) -> bool:
    """Whether a message whose status is `current` should move to `new`.

    `current` is None when no status is recorded yet. A `current` outside the ladder is treated
    like None, so any known status replaces it. A `new` outside the ladder (Meta's `deleted`,
    `warning`, `played` ...) never advances: callers record those separately if they care.
    """
    known_current = current if current == FAILED or current in STATUS_RANK else None
    if new == FAILED:
        return known_current != FAILED and known_current not in DELIVERY_PROOF
    if new not in STATUS_RANK:
        return False
    if known_current is None:
        return True
    if known_current == FAILED:
        return new in DELIVERY_PROOF
    return STATUS_RANK[new] > STATUS_RANK[known_current]
