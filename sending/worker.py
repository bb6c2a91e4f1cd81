"""The send worker: one process that drains every tenant's outbox through the shared limiter.

Run any number of them (`manage.py send_worker`), on any number of machines. Each one:

* learns which tenants have work from PostgreSQL notifications (`outbox_notify`, sent when a
  message is queued) and, every SEND_SWEEP_INTERVAL_S, from the durable work-pending index
  (tenants.work_pending: one query, whatever the number of tenants); a tenant whose outbox it
  finds empty leaves the index, one whose next work is later waits there until then;
* sends only for tenants that were active at the last sweep: a tenant suspended or deleted since
  leaves the loop at the next sweep (its jobs still waiting for their slot are handed back, its
  messages stay queued, unfailed, with no attempt used), and comes back at the sweep after it is
  resumed;
* for each phone number of an active account with due messages, reserves send slots from the
  shared limiter (the number's throughput, a little under it), claims at most that many messages
  (SKIP LOCKED), and checks each recipient's pair rate; what the limiter holds back goes back to
  the queue with a later `next_attempt_at`, unfailed and without using an attempt;
* hands the claimed messages to its dispatcher, which sends each at its slot through the Graph
  client, and records the outcomes in batches (wamid, retry with backoff, failure, reconciliation);
  a job whose slot passed before a thread got to it takes the number's next free slot from the
  limiter, keeping its claim (up to MAX_RESLOTS times; then it goes back to the queue);
* reconciles messages whose lease ran out (a worker died mid-send, or a timeout left the outcome
  unknown) from the status webhooks that carry their id: a lease keeps its tenant in the index
  until it runs out, so the sweep finds it there;
* when it starts, checks every active tenant once, a batch per sweep, for work the index does not
  know of (queued before the index existed).

All database work happens on the main thread; the dispatcher's threads only talk to the Graph API.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django_tenants.utils import schema_context

from platform_core import counters
from platform_core.errors import DomainError
from platform_core.heartbeats import SEND_WORKER, Heartbeat
from sending import outbox, retry
from sending.dispatcher import PairReservation, SendDispatcher, SendJob, SendResult, pacing_logger
from sending.limiter import Grant, rate_limiter
from tenants.selectors import active_tenants
from tenants.work_pending import WorkKind, work_due, work_settle
from waba.graph.errors import GraphError
from waba.meta import ErrorCode
from waba.models import PhoneNumber, WhatsAppAccount
from waba.services.accounts import account_mark_unhealthy
from waba.services.credentials import graph_client_for

logger = logging.getLogger(__name__)

# Outcomes are recorded in batches: at most this late, or as soon as this many are waiting.
FLUSH_EVERY_S = 0.1
FLUSH_AT = 500
PURGE_EVERY_S = 60.0
# A notification from a tenant not active at the last sweep (a new one) re-reads the tenants at most this often.
ACTIVE_RECHECK_S = 1.0
# Messages that cannot go out now (their account is not active) bring their tenant back this often.
HELD_RECHECK_S = 30.0
# Tenants checked per sweep for work the index does not know of, after the worker starts.
UNINDEXED_BATCH = 100
# A claimed job whose slot passed before it could leave takes a new slot this many times at most
# (keeping its claim); after that it goes back to the queue.
MAX_RESLOTS = 3


# Meta's answers that mean "too fast": counted as throttled sends for /metrics.
THROTTLE_CODES = frozenset({ErrorCode.THROUGHPUT_EXCEEDED, ErrorCode.PAIR_RATE_LIMIT})


def throughput_key(phone_number_id: str) -> str:
    return f"tp:{phone_number_id}"


def pair_key(phone_number_id: str, wa_id: str) -> str:
    return f"pair:{phone_number_id}:{wa_id}"


def throughput_interval_s(phone: PhoneNumber) -> float:
    return 1.0 / (phone.throughput_mps * settings.SEND_THROUGHPUT_HEADROOM)


class SendWorker:
    def __init__(self, *, threads: int | None = None, name: str = "send-worker") -> None:
        self.name = name
        self.threads = threads or settings.SEND_WORKER_THREADS
        self.stop_event = threading.Event()
        self._wake = threading.Condition()
        self._notified: set[str] = set()
        self._due: dict[str, float] = {}  # schema -> monotonic time to look at it again
        self._booked_until: dict[str, float] = {}  # phone_number_id -> our last slot (monotonic)
        self._stopped_accounts: set[tuple[str, int]] = set()
        self._schemas: list[str] | None = None
        self._active: set[str] = set()  # schemas with work whose tenants were active at the last look
        self._versions: dict[str, int | None] = {}  # schema -> index version seen before looking at it
        self._unindexed: list[str] | None = None  # schemas still to check once for unannounced work
        self._active_checked_at = -math.inf
        # How long a claim takes from reserving slots to handing them to the dispatcher (an average):
        # slots are reserved that far ahead, so that none is already past when it is handed over.
        self._claim_latency_s = 0.05
        self.dispatcher = SendDispatcher(
            threads=self.threads, name=name, results_ready=self._wake_up, flush_at=FLUSH_AT
        )
        self.sent_total = 0
        self._shutting_down = False
        self.heartbeat = Heartbeat(SEND_WORKER)

    # --- running -------------------------------------------------------------------------------------

    def run(
        self,
        *,
        max_seconds: float | None = None,
        schemas: list[str] | None = None,
        until_idle: bool = False,
        listen: bool = True,
    ) -> None:
        """Send until stopped (or `max_seconds`). Tests pass `schemas` (instead of every active
        tenant), `until_idle` (return once nothing is left to send) and `listen=False`."""
        self._schemas = schemas
        if listen:
            threading.Thread(target=self._listen, name=f"{self.name}-listen", daemon=True).start()
        deadline = time.monotonic() + max_seconds if max_seconds else math.inf
        next_sweep = next_purge = 0.0
        try:
            while not self.stop_event.is_set() and time.monotonic() < deadline:
                self.heartbeat.beat()
                now = time.monotonic()
                if now >= next_sweep:
                    self._sweep()
                    next_sweep = now + settings.SEND_SWEEP_INTERVAL_S
                if now >= next_purge:
                    self._purge()
                    next_purge = now + PURGE_EVERY_S
                self._take_notifications()
                self._cycle_due_tenants()
                self._record_results()
                if until_idle and self._idle():
                    return
                self._sleep(min(next_sweep, deadline))
        finally:
            self._shutdown()

    def stop(self) -> None:
        self.stop_event.set()
        self._wake_up()

    def _wake_up(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _idle(self) -> bool:
        """Nothing left to do in `schemas`: a held queue (suspended tenant) is not work."""
        if self.dispatcher.pending() or self.dispatcher.has_results():
            return False
        for schema in active_tenants().filter(schema_name__in=self._schemas or []).values_list("schema_name", flat=True):
            with schema_context(schema):
                if outbox.outbox_pending_count():
                    return False
        return True

    def _sleep(self, until: float) -> None:
        candidates = [until]
        if self._due:
            candidates.append(min(self._due.values()))
        if self.dispatcher.pending() or self.dispatcher.has_results():
            candidates.append(time.monotonic() + FLUSH_EVERY_S)
        timeout = min(candidates) - time.monotonic()
        if timeout <= 0:
            return
        with self._wake:
            if not self._notified and not self.stop_event.is_set():
                self._wake.wait(timeout)

    def _shutdown(self) -> None:
        """Hand undispatched jobs back to the queue, let sends in flight finish, record everything."""
        self._shutting_down = True  # late jobs now go back to the queue: nothing would send them
        self._release_jobs(self.dispatcher.close())
        self._record_results()
        counters.counters_flush()

    # --- knowing which tenants have work ------------------------------------------------------------

    def _listen(self) -> None:
        """Collect `outbox_notify` payloads (schema names) on a connection of its own."""
        while not self.stop_event.is_set():
            wrapper = connections.create_connection("default")
            try:
                wrapper.ensure_connection()
                raw = wrapper.connection
                raw.autocommit = True
                raw.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")
                while not self.stop_event.is_set():
                    for notify in raw.notifies(timeout=1.0):
                        self.wake_for(notify.payload)
            except Exception:
                logger.exception("%s: lost the notification connection; reconnecting", self.name)
                time.sleep(1.0)
            finally:
                wrapper.close()

    def wake_for(self, schema: str) -> None:
        """A tenant queued messages (its `outbox_notify`): look at it on the next turn. Any thread."""
        with self._wake:
            self._notified.add(schema)
            self._wake.notify_all()

    def _take_notifications(self) -> None:
        with self._wake:
            notified, self._notified = self._notified, set()
        now = time.monotonic()
        for schema in notified:
            if schema not in self._active and time.monotonic() - self._active_checked_at >= ACTIVE_RECHECK_S:
                self._active_refresh(notified)  # tenants new to this worker, or ones that are gone
            if schema in self._active:
                self._due[schema] = now

    def _sweep(self) -> None:
        """Look at the tenants the work-pending index says are due (the safety net for missed
        notifications, due retries and run-out leases), and at the next batch of unindexed ones."""
        now = time.monotonic()
        try:
            pending = {row.schema_name: row.version for row in work_due(kind=WorkKind.OUTBOX, schemas=self._schemas)}
            unindexed = self._unindexed_batch()
        except Exception:
            logger.exception("%s: could not read the work-pending index", self.name)
            close_old_connections()
            return
        if not self._active_refresh(set(pending) | set(unindexed)):
            return
        for schema in unindexed:
            self._versions.setdefault(schema, None)
        self._versions.update(pending)
        for schema in sorted(set(pending) | set(unindexed)):
            if schema not in self._active:
                continue
            self._due[schema] = min(self._due.get(schema, now), now)
            self._reconcile(schema)

    def _unindexed_batch(self) -> list[str]:
        if self._unindexed is None:
            self._unindexed = self._schemas or sorted(active_tenants().values_list("schema_name", flat=True))
        batch, self._unindexed = self._unindexed[:UNINDEXED_BATCH], self._unindexed[UNINDEXED_BATCH:]
        return batch

    def _active_refresh(self, schemas: set[str] | None = None) -> bool:
        """Read which of the tenants we work for (and `schemas`) are active; stop the ones that no
        longer are. False if it could not."""
        candidates = self._active | set(self._due) | (schemas or set())
        try:
            active = (
                set(active_tenants().filter(schema_name__in=candidates).values_list("schema_name", flat=True))
                if candidates
                else set()
            )
        except Exception:
            logger.exception("%s: could not list tenants", self.name)
            close_old_connections()
            return False
        self._active_checked_at = time.monotonic()
        for schema in self._active - active:
            self._schema_stop(schema)
        for schema in active - self._active:
            self.dispatcher.schema_resume(schema)
        self._active = active
        return True

    def _index_settle(self, schema: str) -> None:
        """Nothing is due on this tenant's active numbers: tell the index when to come back (the
        earliest lease or held message), or that nothing is left. Runs in the tenant's schema.

        Only for a tenant read from the index (or the unindexed check) before its cycle, with the
        version read then: a message queued since bumped it, and its row stays."""
        if schema not in self._versions:
            return
        version = self._versions.pop(schema)
        due_at = outbox.outbox_next_due()
        if due_at is not None and due_at <= timezone.now():  # held: nothing due on an active number
            due_at = timezone.now() + timedelta(seconds=HELD_RECHECK_S)
        if work_settle(kind=WorkKind.OUTBOX, version=version, due_at=due_at) and due_at is None:
            self._active.discard(schema)

    def _schema_stop(self, schema: str) -> None:
        """The tenant was suspended or deleted: nothing more goes out for it; its queue waits."""
        self._active.discard(schema)
        self._due.pop(schema, None)
        self.dispatcher.schema_stop(schema)
        logger.info("%s: %s is no longer an active tenant; its messages stay queued", self.name, schema)

    def _tenant_gone(self, schema: str) -> bool:
        try:
            return not active_tenants().filter(schema_name=schema).exists()
        except Exception:  # the database itself is in trouble: the caller handles it as any failure
            return False

    def _purge(self) -> None:
        try:
            rate_limiter().purge_expired()
        except Exception:
            logger.exception("%s: could not purge the limiter", self.name)

    def _reconcile(self, schema: str) -> None:
        try:
            with schema_context(schema):
                result = outbox.outbox_reconcile(max_attempts=settings.SEND_MAX_ATTEMPTS)
        except Exception:
            logger.exception("%s: reconciliation failed in %s", self.name, schema)
            close_old_connections()
            return
        if result.requeued:
            self._due[schema] = time.monotonic()

    # --- claiming -------------------------------------------------------------------------------------

    def _cycle_due_tenants(self) -> None:
        now = time.monotonic()
        for schema in [s for s, at in self._due.items() if at <= now]:
            del self._due[schema]
            if schema not in self._active:
                continue
            try:
                with schema_context(schema):
                    next_look = self._cycle(schema)
                    if next_look is None:
                        self._index_settle(schema)
            except Exception as error:
                if self._tenant_gone(schema):  # deleted or suspended since the last sweep
                    logger.warning("%s: left %s, whose tenant is no longer active (%s)",
                                   self.name, schema, type(error).__name__)
                    close_old_connections()
                    self._schema_stop(schema)
                    continue
                logger.exception("%s: send cycle failed in %s", self.name, schema)
                close_old_connections()
                next_look = time.monotonic() + 1.0
            if next_look is not None:
                self._due[schema] = min(self._due.get(schema, math.inf), next_look)

    def _cycle(self, schema: str) -> float | None:
        """Claim what one tenant may send now; returns when to look at it again (None: on notice)."""
        phones = {
            phone.pk: phone
            for phone in PhoneNumber.objects.select_related("account").filter(
                account__status=WhatsAppAccount.Status.ACTIVE
            )
        }
        due = outbox.outbox_due_by_number(phone_number_ids=list(phones))
        next_look: float | None = None
        horizon = settings.SEND_RESERVE_HORIZON_S
        db_now = timezone.now()
        # The jobs this process may still take are shared between the numbers due now, so that the
        # first number of a tenant never takes them all while the others wait.
        share = max(1, self._capacity() // max(1, sum(1 for due_at in due.values() if due_at <= db_now)))
        for pk, due_at in due.items():
            phone = phones[pk]
            now = time.monotonic()
            wait = (due_at - db_now).total_seconds()
            booked = self._booked_until.get(phone.phone_number_id, 0.0) - now
            if wait > 0:
                look = now + wait
            elif booked > horizon / 2:
                look = now + booked - horizon / 2
            else:
                look = self._claim_for_number(schema, phone, limit=share)
            next_look = look if next_look is None else min(next_look, look)
        return next_look

    def _capacity(self) -> int:
        """How many more jobs this process may hold: bounded so that a backlog can never pile up.

        Most wait for their slot, at most the reserve horizon ahead (at 1,000/s and 0.25 s: 250 per
        number); a job whose slot passes while the threads are busy takes a new slot, never sent late.
        """
        return max(0, self.threads * 32 - self.dispatcher.pending())

    def _claim_for_number(self, schema: str, phone: PhoneNumber, *, limit: int) -> float:
        horizon = settings.SEND_RESERVE_HORIZON_S
        capacity = min(settings.SEND_CLAIM_BATCH, limit, self._capacity())
        if capacity == 0:
            return time.monotonic() + FLUSH_EVERY_S
        try:
            client = graph_client_for(phone.account)
        except DomainError as error:  # e.g. an active account without a token: its messages wait
            logger.warning("%s: cannot send from %s: %s", self.name, phone.phone_number_id, error)
            return time.monotonic() + 5.0
        interval = throughput_interval_s(phone)
        limiter = rate_limiter()
        grant = self._slots_reserve(phone.phone_number_id, count=capacity, interval_s=interval)
        reserved_at = time.monotonic()
        if pacing_logger.isEnabledFor(logging.DEBUG):
            pacing_logger.debug(
                "%s reserved %s of %s slots for %s from %.6f",
                self.name, grant.granted, grant.requested, phone.phone_number_id, grant.slot_at(0),
            )
        if grant.granted == 0:
            return reserved_at + grant.retry_in_s
        # Long enough to wait for the slot, send, time out, and give webhooks the grace period.
        lease = horizon + 1.0 + settings.GRAPH_API_TIMEOUT_S + settings.SEND_RECONCILE_GRACE_S
        claimed = outbox.outbox_claim(phone_number_pk=phone.pk, limit=grant.granted, lease_s=lease)
        if len(claimed) < grant.granted:
            limiter.release(grant=grant, unused=grant.granted - len(claimed))
        if not claimed:
            return reserved_at + horizon
        pair_grants = self._pair_check(phone, claimed)
        if (schema, phone.account_id) in self._stopped_accounts:  # active again since it was stopped
            self._stopped_accounts.discard((schema, phone.account_id))
            self.dispatcher.account_resume(schema, phone.account_id)
        now = time.monotonic()
        self._claim_latency_s = 0.8 * self._claim_latency_s + 0.2 * (now - reserved_at)
        # A slot already past (the claim took longer than the lead) is given up, not used late:
        # sent late it would leave right before the next slot, closer than the interval allows.
        tolerance = max(interval / 4, 0.002)
        jobs: list[SendJob] = []
        too_late: list[SendJob] = []
        for index, message in enumerate(claimed):
            if message.id not in pair_grants:
                continue
            job = SendJob(
                at=reserved_at + grant.slot_in_s(index),
                slot_at=grant.slot_at(index),
                schema=schema,
                message_id=message.id,
                attempts=message.attempts,
                account_id=phone.account_id,
                phone_number_id=phone.phone_number_id,
                payload=message.payload,
                client=client,
                pair=pair_grants[message.id],
                interval_s=interval,
            )
            (too_late if job.at < now - tolerance else jobs).append(job)
        self.dispatcher.schedule(jobs)
        last_slot = reserved_at + grant.slot_in_s(len(claimed) - 1)
        self._booked_until[phone.phone_number_id] = max(self._booked_until.get(phone.phone_number_id, 0.0), last_slot)
        unslotted = self._reslot(too_late)
        self._pair_give_back(unslotted)
        outbox.outbox_release(message_ids=[job.message_id for job in unslotted])
        # A full claim means more may be waiting: come back when our slots run low.
        return max(reserved_at, last_slot - horizon / 2)

    def _slots_reserve(self, phone_number_id: str, *, count: int, interval_s: float) -> Grant:
        """The number's next `count` send slots from the shared limiter, within the reserve horizon."""
        horizon = settings.SEND_RESERVE_HORIZON_S
        return rate_limiter().reserve(
            key=throughput_key(phone_number_id),
            count=count,
            interval_s=interval_s,
            burst=1,
            horizon_s=horizon,
            lead_s=min(horizon / 2, 2 * self._claim_latency_s),
        )

    def _reslot(self, jobs: list[SendJob]) -> list[SendJob]:
        """Give jobs whose slot passed unsent the number's next free slots; returns those that got none.

        A job keeps its claim (and its place before messages not yet claimed) instead of going back
        to the queue to be claimed again. The limiter decides the new slots, as for any claim, so
        the number's rate holds. A job of a stopped tenant or account, or one late too often, gets none.
        """
        left: list[SendJob] = []
        by_number: dict[str, list[SendJob]] = defaultdict(list)
        for job in jobs:
            stopped = job.schema not in self._active or (job.schema, job.account_id) in self._stopped_accounts
            if stopped or self._shutting_down or job.reslots >= MAX_RESLOTS or job.interval_s <= 0:
                left.append(job)
            else:
                by_number[job.phone_number_id].append(job)
        for phone_number_id, waiting in by_number.items():
            waiting.sort(key=lambda job: job.at)
            try:
                grant = self._slots_reserve(phone_number_id, count=len(waiting), interval_s=waiting[0].interval_s)
            except Exception:
                logger.exception("%s: could not take new slots for %s late sends", self.name, len(waiting))
                close_old_connections()
                left += waiting
                continue
            reserved_at = time.monotonic()
            slotted = [
                replace(job, at=reserved_at + grant.slot_in_s(index), slot_at=grant.slot_at(index), reslots=job.reslots + 1)
                for index, job in enumerate(waiting[: grant.granted])
            ]
            self.dispatcher.schedule(slotted)
            left += waiting[grant.granted :]
            if slotted:
                counters.counter_add(counters.SENDS, len(slotted), phone_number_id=phone_number_id, outcome="reslotted")
                self._booked_until[phone_number_id] = max(self._booked_until.get(phone_number_id, 0.0), slotted[-1].at)
        return left

    def _pair_check(self, phone: PhoneNumber, claimed: list[outbox.Claimed]) -> dict[int, PairReservation]:
        """The pair-rate reservation of each message allowed now (by id); the rest go back to the
        queue until their recipient's turn."""
        per_recipient = Counter(message.wa_id for message in claimed)
        grants: dict[str, PairReservation] = {
            grant.key: PairReservation(grant)
            for grant in rate_limiter().reserve_many(
                requests=[(pair_key(phone.phone_number_id, wa_id), n) for wa_id, n in per_recipient.items()],
                interval_s=settings.PAIR_RATE_INTERVAL_S,
                burst=settings.PAIR_RATE_BURST,
                horizon_s=0.0,
            )
        }
        allowed: dict[int, PairReservation] = {}
        deferred: dict[float, list[int]] = defaultdict(list)
        used: Counter[str] = Counter()
        for message in claimed:
            reservation = grants[pair_key(phone.phone_number_id, message.wa_id)]
            grant = reservation.grant
            if used[message.wa_id] < grant.granted:
                allowed[message.id] = reservation
            else:
                # Its turn comes one pair interval after the units granted now.
                position = used[message.wa_id] - grant.granted
                wait = max(grant.retry_in_s, grant.base_in_s + (grant.granted + position) * grant.interval_s)
                deferred[round(wait, 1)].append(message.id)
            used[message.wa_id] += 1
        for wait, ids in deferred.items():
            outbox.outbox_release(message_ids=ids, delay_s=wait)
        if deferred:
            held = sum(len(ids) for ids in deferred.values())
            counters.counter_add(counters.SEND_THROTTLED, held, phone_number_id=phone.phone_number_id, reason="pair_limiter")
        return allowed

    def _pair_give_back(self, jobs: list[SendJob]) -> None:
        """Return the pair-rate units of jobs that were never sent, so that their recipient's next
        message is not held back for a send that did not happen. Only possible while nobody has
        reserved for that recipient since (the limiter checks); otherwise the units stay spent."""
        unused = list(Counter(job.pair for job in jobs if job.pair is not None).items())
        if not unused:
            return
        try:
            done = rate_limiter().release_many(
                releases=[(reservation.grant.less(reservation.returned), count) for reservation, count in unused]
            )
        except Exception:
            logger.exception("%s: could not give back pair-rate units", self.name)
            return
        for (reservation, count), released in zip(unused, done, strict=True):
            if released:
                reservation.returned += count

    # --- recording ------------------------------------------------------------------------------------

    def _release_jobs(self, jobs: list[SendJob]) -> None:
        self._pair_give_back(jobs)
        by_schema: dict[str, list[int]] = defaultdict(list)
        for job in jobs:
            by_schema[job.schema].append(job.message_id)
        for schema, ids in by_schema.items():
            try:
                with schema_context(schema):
                    outbox.outbox_release(message_ids=ids)
            except Exception:
                # A deleted tenant has nothing left to release; otherwise reconciliation requeues them.
                logger.warning("%s: could not hand %s messages back in %s", self.name, len(ids), schema,
                               exc_info=schema in self._active)
                close_old_connections()
                continue
            if schema in self._active:
                self._due[schema] = time.monotonic()

    def _record_results(self) -> None:
        results, passed = self.dispatcher.take()
        handed_back = self._reslot(passed) if passed else []
        if handed_back:
            for phone_number_id, count in Counter(job.phone_number_id for job in handed_back).items():
                counters.counter_add(counters.SENDS, count, phone_number_id=phone_number_id, outcome="handed_back")
            self._release_jobs(handed_back)
        by_schema: dict[str, list[SendResult]] = defaultdict(list)
        for result in results:
            by_schema[result.job.schema].append(result)
        for schema, batch in by_schema.items():
            try:
                with schema_context(schema):
                    self._record(schema, batch)
            except Exception:
                # The rows stay `sending` with their lease: reconciliation settles them later.
                logger.exception("%s: could not record %s outcomes in %s", self.name, len(batch), schema)
                close_old_connections()

    def _record(self, schema: str, batch: list[SendResult]) -> None:
        sent = [
            (r.job.message_id, r.wamid, r.sent_at) for r in batch if r.wamid is not None and r.sent_at is not None
        ]
        outbox.outbox_record_sent(sent=sent)
        self.sent_total += len(sent)
        for phone_number_id, count in Counter(r.job.phone_number_id for r in batch if r.wamid is not None).items():
            counters.counter_add(counters.SENDS, count, phone_number_id=phone_number_id, outcome="sent")
        for result in batch:
            if result.error is not None:
                self._record_error(schema, result.job, result.error)

    def _record_error(self, schema: str, job: SendJob, error: GraphError) -> None:
        decision = retry.decision_for_error(error, attempts=job.attempts)
        counters.counter_add(counters.SENDS, phone_number_id=job.phone_number_id, outcome=decision.next.value)
        if error.code in THROTTLE_CODES:
            counters.counter_add(counters.SEND_THROTTLED, phone_number_id=job.phone_number_id, reason=str(error.code))
        if decision.next == retry.Next.RETRY:
            outbox.outbox_record_retry(
                message_id=job.message_id,
                delay_s=decision.delay_s,
                code=decision.code,
                title=decision.title,
                details=decision.details,
            )
            self._due[schema] = min(self._due.get(schema, math.inf), time.monotonic() + decision.delay_s)
        elif decision.next == retry.Next.FAIL:
            outbox.outbox_record_failed(
                message_id=job.message_id, code=decision.code, title=decision.title, details=decision.details
            )
        elif decision.next == retry.Next.RECONCILE:
            outbox.outbox_record_unknown(
                message_id=job.message_id, grace_s=decision.delay_s, title=decision.title, details=str(error)
            )
        else:
            self._stop_account(schema, job, decision)

    def _stop_account(self, schema: str, job: SendJob, decision: retry.Decision) -> None:
        """The account cannot send: mark it unhealthy once; its messages wait, queued, with the reason."""
        key = (schema, job.account_id)
        if key not in self._stopped_accounts:
            self._stopped_accounts.add(key)
            self.dispatcher.account_stop(schema, job.account_id)
            account = WhatsAppAccount.objects.filter(pk=job.account_id).first()
            if account is not None and account.status == WhatsAppAccount.Status.ACTIVE:
                account_mark_unhealthy(account=account, reason=decision.title, code=decision.code)
        outbox.outbox_release(
            message_ids=[job.message_id], code=decision.code, title=decision.title, details=decision.details
        )
