"""Timed sending: each job leaves at its limiter slot, from a group of threads. No database here.

The threads take turns (leader and followers): one of them, the leader, waits for the next slot;
when it comes, the leader hands the lead to an idle thread and sends that job itself. The thread
that sends is the one that woke at the slot, so no hand-over between threads delays the request,
and the worker's database work (claims, sweeps, recording) on its main thread never does either: a
late send followed by an on-time one would put two messages closer together than the number's
interval. Results are collected for the worker to record.

Messages to one recipient from one number leave one after another, in slot order: a job whose
recipient has a send in flight waits for it to finish (`_recipient_next`), so that a greeting and
the menu after it can never reach Meta the other way round on two threads.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from sending.limiter import Grant
from waba.graph import GraphClient
from waba.graph.errors import GraphError, GraphUnavailable

logger = logging.getLogger(__name__)
# One DEBUG line per send with the limiter's decision: the slot on the limiter store's clock (shared
# by every process) and how late the send left. Turn it on with LOG_LEVELS=sending.pacing:DEBUG.
pacing_logger = logging.getLogger("sending.pacing")

def max_lateness_s() -> float:
    """How late after its slot a send may still leave; later, it is handed back unsent.

    Sends later than their slot bunch up with the ones on time, so a one-second window could
    hold up to (1 + lateness) seconds of slots. Pacing runs at SEND_THROUGHPUT_HEADROOM of the
    number's throughput; a third of that headroom goes to lateness, the rest is left for the
    network between us and Meta.
    """
    return (1.0 / settings.SEND_THROUGHPUT_HEADROOM - 1.0) / 3


@dataclass
class SendJob:
    at: float  # monotonic time of its slot
    slot_at: float  # the same slot on the limiter store's clock (Unix seconds)
    schema: str
    message_id: int
    attempts: int
    account_id: int
    phone_number_id: str
    payload: dict[str, Any]
    client: GraphClient = field(repr=False)
    # The recipient's pair-rate reservation this send uses: given back if the job is never sent.
    pair: PairReservation | None = None
    # The number's paced interval, for a new slot when this one passes before the job leaves.
    interval_s: float = 0.0
    # How many times it took a new slot (it keeps its claim meanwhile).
    reslots: int = 0


@dataclass(eq=False)
class PairReservation:
    """One pair-rate grant shared by the jobs it allowed, and how many of its units went back."""

    grant: Grant
    returned: int = 0


@dataclass
class SendResult:
    job: SendJob
    wamid: str | None = None
    sent_at: datetime | None = None
    error: GraphError | None = None


class SendDispatcher:
    def __init__(self, *, threads: int, name: str, results_ready: Callable[[], None], flush_at: int) -> None:
        self.name = name
        self._results_ready = results_ready
        self._flush_at = flush_at
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # the leader waits on it for the next slot (or new jobs)
        self._leading = False
        # Idle threads, each waiting to lead; the most recently idle one leads next, so that a
        # light load keeps to a few threads (and their warm connections).
        self._idle: list[threading.Condition] = []
        self._heap: list[tuple[float, int, SendJob]] = []
        self._sequence = itertools.count()
        self._results: list[SendResult] = []
        self._handed_back: list[SendJob] = []
        self._stopped_accounts: set[tuple[str, int]] = set()
        self._stopped_schemas: set[str] = set()
        self._in_flight = 0
        # Recipients (number, wa_id) with a send in flight, and their jobs due since, in slot order.
        self._recipients_busy: set[tuple[str, str]] = set()
        self._recipients_waiting: dict[tuple[str, str], deque[SendJob]] = {}
        self._closing = False
        self._max_lateness_s = max_lateness_s()
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}-send-{index}", daemon=True) for index in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    # --- used by the worker's main thread ------------------------------------------------------------

    def schedule(self, jobs: Iterable[SendJob]) -> None:
        """Send each job at its slot (`job.at`)."""
        with self._cond:
            for job in jobs:
                heapq.heappush(self._heap, (job.at, next(self._sequence), job))
            self._cond.notify_all()

    def pending(self) -> int:
        """Jobs not yet recorded: waiting for their slot, being sent, or with a result to collect."""
        with self._cond:
            return len(self._heap) + self._in_flight

    def has_results(self) -> bool:
        with self._cond:
            return bool(self._results or self._handed_back)

    def take(self) -> tuple[list[SendResult], list[SendJob]]:
        """Results to record, and jobs handed back unsent (too late, or their account or tenant stopped)."""
        with self._cond:
            results, self._results = self._results, []
            handed_back, self._handed_back = self._handed_back, []
            self._in_flight -= len(results)
        return results, handed_back

    def account_stop(self, schema: str, account_id: int) -> None:
        with self._cond:
            self._stopped_accounts.add((schema, account_id))

    def account_resume(self, schema: str, account_id: int) -> None:
        with self._cond:
            self._stopped_accounts.discard((schema, account_id))

    def schema_stop(self, schema: str) -> None:
        """Send nothing more for this tenant: its jobs waiting for their slot are handed back now
        (those waiting for their recipient's send in flight when it ends)."""
        with self._cond:
            self._stopped_schemas.add(schema)
            kept = [item for item in self._heap if item[2].schema != schema]
            if len(kept) != len(self._heap):
                self._handed_back.extend(item[2] for item in self._heap if item[2].schema == schema)
                heapq.heapify(kept)
                self._heap = kept
            self._cond.notify_all()

    def schema_resume(self, schema: str) -> None:
        with self._cond:
            self._stopped_schemas.discard(schema)

    def close(self) -> list[SendJob]:
        """Stop dispatching, wait for sends in flight; returns the jobs never dispatched."""
        with self._cond:
            self._closing = True
            leftover = [job for _, _, job in self._heap]
            self._heap.clear()
            for waiting in self._recipients_waiting.values():
                leftover.extend(waiting)
                self._in_flight -= len(waiting)
            self._recipients_waiting.clear()
            self._cond.notify_all()
            for idle in self._idle:
                idle.notify()
            self._idle.clear()
        for thread in self._threads:  # sends in flight finish (the Graph client's timeout bounds them)
            thread.join()
        return leftover

    # --- the sending threads --------------------------------------------------------------------------

    def _serve(self) -> None:
        """One sending thread: lead when nobody does, otherwise wait for the lead; send what it takes."""
        turn = threading.Condition(self._lock)
        with self._cond:
            while not self._closing:
                if self._leading:
                    self._idle.append(turn)
                    turn.wait()
                    continue
                self._leading = True
                job = self._next_due()
                self._leading = False
                if self._idle:
                    self._idle.pop().notify()
                while job is not None:
                    self._cond.release()
                    try:
                        self._send_one(job)
                    finally:
                        self._cond.acquire()
                    job = self._recipient_next(job)

    def _next_due(self) -> SendJob | None:
        """Leader, lock held: wait for the next job whose slot has come and that may leave now (its
        recipient has no send in flight); None when closing. Jobs too late, or of a stopped account
        or tenant, are handed back on the way."""
        while not self._closing:
            if not self._heap:
                self._cond.wait()
                continue
            wait = self._heap[0][0] - time.monotonic()
            if wait > 0:
                self._cond.wait(wait)
                continue
            _, _, job = heapq.heappop(self._heap)
            if (
                (job.schema, job.account_id) in self._stopped_accounts
                or job.schema in self._stopped_schemas
                or -wait > self._max_lateness_s
            ):
                self._handed_back.append(job)
                continue
            self._in_flight += 1
            recipient = _recipient(job)
            if recipient in self._recipients_busy:
                self._recipients_waiting.setdefault(recipient, deque()).append(job)
                continue
            self._recipients_busy.add(recipient)
            return job
        return None

    def _recipient_next(self, job: SendJob) -> SendJob | None:
        """Lock held, `job`'s send is over: its recipient's next job, which the same thread sends now
        (one of a stopped account or tenant is handed back instead); None if nothing waits for it."""
        recipient = _recipient(job)
        waiting = None if self._closing else self._recipients_waiting.get(recipient)
        while waiting:
            following = waiting.popleft()
            if (following.schema, following.account_id) in self._stopped_accounts or (
                following.schema in self._stopped_schemas
            ):
                self._in_flight -= 1
                self._handed_back.append(following)
                continue
            if not waiting:
                del self._recipients_waiting[recipient]
            return following
        if not self._closing:
            self._recipients_waiting.pop(recipient, None)
        self._recipients_busy.discard(recipient)
        return None

    def _send_one(self, job: SendJob) -> None:
        lateness = time.monotonic() - job.at
        if lateness > self._max_lateness_s:
            with self._cond:
                self._in_flight -= 1
                self._handed_back.append(job)
            return
        if pacing_logger.isEnabledFor(logging.DEBUG):
            pacing_logger.debug(
                "%s sends message %s from %s: slot %.6f late %.6f",
                self.name, job.message_id, job.phone_number_id, job.slot_at, lateness,
            )
        result = SendResult(job=job)
        try:
            answer = job.client.send_message(job.phone_number_id, job.payload)
            result.wamid = str(answer["messages"][0]["id"])
            result.sent_at = timezone.now()
        except GraphError as error:
            result.error = error
        except Exception as error:  # a bug or an odd answer after the request left: reconcile, never resend
            logger.exception("%s: unexpected error sending message %s", self.name, job.message_id)
            result.error = GraphUnavailable(f"Unexpected {type(error).__name__}", may_have_been_processed=True)
        with self._cond:
            self._results.append(result)
            ready = len(self._results) >= self._flush_at or result.error is not None
        if ready:
            self._results_ready()


def _recipient(job: SendJob) -> tuple[str, str]:
    return job.phone_number_id, str(job.payload.get("to", ""))
