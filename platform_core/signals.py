"""A Django signal whose receivers are isolated from each other by savepoints.

Lower layers announce events with signals; higher layers connect receivers in their
AppConfig.ready(). `send_in_savepoints` runs each receiver in a savepoint of its own: one that
raises is logged and rolled back alone, and neither the sender's writes nor the other receivers'
are lost. Plain `send` (exceptions propagate) is still there for events that must be all or nothing.
A receiver connected with `connect_when` is called only when its condition holds, and costs no
savepoint otherwise: the condition must be a cheap read that writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)


class IsolatedSignal(Signal):
    name: str  # optional, for the log line of a failing receiver (set on the instance)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._conditions: dict[Callable[..., Any], Callable[..., bool]] = {}

    def connect_when(
        self, receiver: Callable[..., Any], *, when: Callable[..., bool], dispatch_uid: str, sender: Any = None
    ) -> None:
        """Connect `receiver`, to be called by `send_in_savepoints` only when `when(**named)` is true."""
        self.connect(receiver, sender=sender, dispatch_uid=dispatch_uid)
        self._conditions[receiver] = when

    def send_together(self, sender: Any, **named: Any) -> None:
        """Call every live receiver whose condition holds, with no savepoint of its own: the first
        that raises stops the call. For a caller that runs many sends in one savepoint of its own,
        rolls it back when one raises, and sends them again with `send_in_savepoints`."""
        if not self.has_listeners(sender):
            return
        sync_receivers, _ = self._live_receivers(sender)
        for receiver in sync_receivers:
            condition = self._conditions.get(receiver)
            if condition is None or condition(**named):
                receiver(signal=self, sender=sender, **named)

    def send_in_savepoints(self, sender: Any, **named: Any) -> int:
        """Call every live receiver, each in its own savepoint; returns how many raised."""
        if not self.has_listeners(sender):
            return 0
        sync_receivers, _ = self._live_receivers(sender)
        failures = 0
        for receiver in sync_receivers:
            condition = self._conditions.get(receiver)
            if condition is not None and not condition(**named):
                continue
            try:
                with transaction.atomic():
                    receiver(signal=self, sender=sender, **named)
            except Exception:
                failures += 1
                logger.exception(
                    "Receiver %s of %s failed; it was rolled back alone.",
                    getattr(receiver, "__qualname__", receiver), getattr(self, "name", "a signal"),
                )
        return failures
