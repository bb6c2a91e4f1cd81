"""Announce metering work when messages reach their recipients.

The meter counts delivered messages (billing.metering), so a status change to delivered or read
announces the tenant's METERING work (tenants.work_pending) in the transaction that applies it,
once per batch of changes; the meter schedule visits only the tenants so announced.
"""

from __future__ import annotations

from typing import Any

from messaging.signals import message_statuses_changed
from messaging.status_order import MessageStatus
from messaging.statuses import StatusChange
from tenants.work_pending import WorkKind, work_announce

# A message is meterable once it is delivered; one read before its delivered status counts too.
METERED_STATUSES = frozenset({MessageStatus.DELIVERED, MessageStatus.READ})


def _has_deliveries(changes: list[StatusChange], **kwargs: Any) -> bool:
    return any(change.status in METERED_STATUSES for change in changes)


def deliveries_announce(sender: Any, changes: list[StatusChange], **kwargs: Any) -> None:
    work_announce(kind=WorkKind.METERING)


def connect() -> None:
    # Called (in a savepoint) only for a batch with a delivery: other batches cost nothing more.
    message_statuses_changed.connect_when(
        deliveries_announce, when=_has_deliveries, dispatch_uid="billing.message_statuses_changed"
    )
