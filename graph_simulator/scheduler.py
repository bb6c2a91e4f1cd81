"""One timer thread for all delayed work: status chains, template reviews, webhook retries.

A heap instead of a `threading.Timer` per job: a send benchmark schedules thousands of status
steps a second, and a thread each would swamp the machine.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, name: str = "graph-sim-scheduler") -> None:
        self._heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call_later(self, delay_s: float, function: Callable[..., Any], *args: Any) -> None:
        """Run `function(*args)` on the scheduler thread after `delay_s`; it must be quick."""
        entry = (time.monotonic() + max(delay_s, 0.0), next(self._sequence), function, args)
        with self._condition:
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:
                self._condition.notify()

    def pending(self) -> int:
        with self._condition:
            return len(self._heap)

    def clear(self) -> None:
        with self._condition:
            self._heap.clear()

    def stop(self) -> None:
        with self._condition:
            self._running = False
            self._condition.notify()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._running and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._condition.wait(timeout)
                if not self._running:
                    return
                now = time.monotonic()
                due = []
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap))
            for _, _, function, args in due:
                try:
                    function(*args)
                except Exception:  # one failing job must not stop the timer thread
                    logger.exception("scheduled job %s failed", getattr(function, "__name__", function))
