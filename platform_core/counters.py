"""Counters only the workers see (sends, throttles, Graph latency and errors, schedule runs), summed
in the database so that one `/metrics` scrape of the web process reports every process.

Why rows in the public schema rather than prometheus_client's multiprocess mode: workers run on
any number of machines (the architecture promises it), and a multiprocess directory is shared by
the processes of one machine only; the database is already where the scrape reads every other
figure, and where the platform console's health page reads the same numbers.

On the hot path `counter_add` and `histogram_observe` only add to a dict in memory under a lock.
A daemon thread per process (started on the first record, restarted in a forked child) writes
what accumulated every METRICS_COUNTERS_FLUSH_S seconds: one upsert per flush, adding each
series' increment to its row of the current minute (`platform_metric_counter`, on the database's
clock). Per-minute rows give the recent figures (the last five minutes on the health page);
rows older than COUNTER_MINUTES_KEPT are folded into one all-time row per series (minute = the
Unix epoch), so the totals the scrape sums never go down and the table stays small. With
METRICS_COUNTERS_FLUSH_S = 0 (tests) nothing is written until `counters_flush()` is called.

A histogram is stored as its `_count`, `_sum` and one `_bucket` series per upper bound (`le`)
counting the observations that fell in that bucket only; the scrape makes them cumulative.
"""

from __future__ import annotations

import atexit
import bisect
import functools
import json
import logging
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

SENDS = "platform_sends_total"
SEND_THROTTLED = "platform_send_throttled_total"
GRAPH_REQUEST_DURATION = "platform_graph_request_duration_seconds"
GRAPH_ERRORS = "platform_graph_errors_total"
SCHEDULE_RUNS = "platform_schedule_runs_total"

GRAPH_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COUNTER_MINUTES_KEPT = 60
COMPACT_EVERY_S = 600.0
EPOCH = "1970-01-01T00:00:00+00:00"

Series = tuple[str, str]  # (name, labels as canonical JSON)


def labels_key(labels: Mapping[str, object]) -> str:
    """A series' labels as stored: JSON with sorted keys and string values."""
    return _labels_key(tuple(sorted((key, str(value)) for key, value in labels.items())))


@functools.lru_cache(maxsize=4096)
def _labels_key(items: tuple[tuple[str, str], ...]) -> str:
    return json.dumps(dict(items), separators=(",", ":"))


class _Buffer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[Series, float] = {}
        self.flusher: threading.Thread | None = None
        self.next_compact = 0.0

    def add(self, name: str, labels: Mapping[str, object], amount: float) -> None:
        series = (name, labels_key(labels))
        with self.lock:
            self.pending[series] = self.pending.get(series, 0.0) + amount
            if self.flusher is None:
                self._flusher_start()

    def take(self) -> dict[Series, float]:
        with self.lock:
            taken, self.pending = self.pending, {}
        return taken

    def give_back(self, taken: Mapping[Series, float]) -> None:
        with self.lock:
            for series, amount in taken.items():
                self.pending[series] = self.pending.get(series, 0.0) + amount

    def _flusher_start(self) -> None:
        try:
            interval = float(settings.METRICS_COUNTERS_FLUSH_S)
        except ImproperlyConfigured:  # a script using the Graph client without Django settings
            interval = 0.0
        if interval <= 0:
            self.flusher = threading.Thread()  # a placeholder: nothing flushes on its own
            return
        self.flusher = threading.Thread(target=_flush_forever, args=(interval,), name="counters-flush", daemon=True)
        self.flusher.start()


_buffer = _Buffer()


def _forget_after_fork() -> None:
    global _buffer
    _buffer = _Buffer()


os.register_at_fork(after_in_child=_forget_after_fork)


def counter_add(metric: str, amount: float = 1.0, /, **labels: object) -> None:
    """Add to a counter series of this process; written to the database by the next flush. Any thread."""
    if amount:
        _buffer.add(metric, labels, amount)


def histogram_observe(metric: str, value: float, buckets: Sequence[float], /, **labels: object) -> None:
    """Count one observation (e.g. a duration in seconds) in its bucket, and its sum. Any thread."""
    index = bisect.bisect_left(buckets, value)
    le = _bound_text(buckets[index]) if index < len(buckets) else "+Inf"
    _buffer.add(f"{metric}_bucket", {**labels, "le": le}, 1.0)
    _buffer.add(f"{metric}_count", labels, 1.0)
    _buffer.add(f"{metric}_sum", labels, value)


def _bound_text(bound: float) -> str:
    return repr(float(bound))


def _table() -> str:
    # Imported here: the Graph client imports this module, possibly before the apps are loaded.
    from platform_core.heartbeats import public_table  # noqa: PLC0415
    from platform_core.models import MetricCounter  # noqa: PLC0415

    return public_table(MetricCounter)


def counters_flush() -> bool:
    """Write what this process counted since the last flush (one statement). False if the database
    refused: the counts stay in memory for the next flush."""
    taken = _buffer.take()
    if not taken:
        return True
    series = sorted(taken)  # a fixed row order: concurrent flushes never deadlock
    table = _table()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} AS c (name, labels, minute, value) "
                "SELECT s.name, s.labels, date_trunc('minute', now()), s.value "
                "FROM unnest(%s::text[], %s::text[], %s::float8[]) AS s(name, labels, value) "
                "ON CONFLICT (name, labels, minute) DO UPDATE SET value = c.value + EXCLUDED.value",
                [[name for name, _ in series], [labels for _, labels in series], [taken[s] for s in series]],
            )
    except DatabaseError:
        logger.warning("Writing %s counter series failed; keeping them for the next flush.", len(taken),
                       exc_info=True)
        _buffer.give_back(taken)
        return False
    return True


def counters_compact() -> None:
    """Fold per-minute rows older than COUNTER_MINUTES_KEPT into each series' all-time row, in one
    statement (totals unchanged). Concurrent compactions skip the rows the other one took."""
    table = _table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH old AS (DELETE FROM {table} WHERE minute > %s AND minute < now() - make_interval(mins => %s) "
            "RETURNING name, labels, value) "
            f"INSERT INTO {table} AS c (name, labels, minute, value) "
            "SELECT name, labels, %s, sum(value) FROM old GROUP BY name, labels "
            "ON CONFLICT (name, labels, minute) DO UPDATE SET value = c.value + EXCLUDED.value",
            [EPOCH, COUNTER_MINUTES_KEPT, EPOCH],
        )


def counters_discard() -> None:
    """Forget what this process counted and did not write yet (tests)."""
    _buffer.take()


def _flush_forever(interval: float) -> None:
    atexit.register(counters_flush)
    while True:
        time.sleep(interval)
        counters_flush_and_compact()


def counters_flush_and_compact() -> None:
    """The flusher's turn: write the counts, and compact at most every COMPACT_EVERY_S."""
    try:
        counters_flush()
        if time.monotonic() >= _buffer.next_compact:
            _buffer.next_compact = time.monotonic() + COMPACT_EVERY_S
            counters_compact()
    except DatabaseError:
        logger.warning("Compacting the counters failed; trying again later.", exc_info=True)
        connection.close()


# --- reading ---------------------------------------------------------------------------------------


def counter_totals() -> dict[Series, float]:
    """Every series' total over all processes and all time: what `/metrics` exposes."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, labels, sum(value) FROM {_table()} GROUP BY name, labels")
        return {(name, labels): float(total) for name, labels, total in cursor.fetchall()}


def counters_recent(*, minutes: int) -> dict[Series, float]:
    """Each series' increase over the last `minutes` whole minutes plus the current one."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, labels, sum(value) FROM {_table()} "
            "WHERE minute >= date_trunc('minute', now()) - make_interval(mins => %s) GROUP BY name, labels",
            [minutes],
        )
        return {(name, labels): float(total) for name, labels, total in cursor.fetchall()}


@dataclass
class NumberTraffic:
    phone_number_id: str
    outcomes: dict[str, int] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return self.outcomes.get("sent", 0)

    @property
    def retried(self) -> int:
        return self.outcomes.get("retry", 0)

    @property
    def failed(self) -> int:
        return self.outcomes.get("fail", 0)


@dataclass
class TrafficSummary:
    """The workers' counters over the last few minutes, for the platform console's health page."""

    minutes: int
    numbers: list[NumberTraffic]
    graph_requests: int
    graph_p95_s: float | None
    graph_errors: dict[str, int]

    @property
    def graph_p95_ms(self) -> float | None:
        return None if self.graph_p95_s is None else self.graph_p95_s * 1000


def traffic_summary(*, minutes: int = 5) -> TrafficSummary:
    recent = counters_recent(minutes=minutes)
    numbers: dict[str, NumberTraffic] = {}
    errors: dict[str, int] = {}
    buckets: dict[float, float] = dict.fromkeys([*GRAPH_DURATION_BUCKETS, math.inf], 0.0)
    requests = 0
    for (name, labels_text), value in recent.items():
        labels = json.loads(labels_text)
        if name == SENDS:
            number = numbers.setdefault(labels["phone_number_id"], NumberTraffic(labels["phone_number_id"]))
            number.outcomes[labels["outcome"]] = number.outcomes.get(labels["outcome"], 0) + int(value)
        elif name == SEND_THROTTLED:
            number = numbers.setdefault(labels["phone_number_id"], NumberTraffic(labels["phone_number_id"]))
            number.throttled[labels["reason"]] = number.throttled.get(labels["reason"], 0) + int(value)
        elif name == GRAPH_ERRORS:
            errors[labels["code"]] = errors.get(labels["code"], 0) + int(value)
        elif name == f"{GRAPH_REQUEST_DURATION}_bucket":
            bound = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            buckets[bound] = buckets.get(bound, 0.0) + value
        elif name == f"{GRAPH_REQUEST_DURATION}_count":
            requests += int(value)
    return TrafficSummary(
        minutes=minutes,
        numbers=sorted(numbers.values(), key=lambda n: n.phone_number_id),
        graph_requests=requests,
        graph_p95_s=histogram_quantile(0.95, buckets),
        graph_errors=dict(sorted(errors.items())),
    )


def histogram_quantile(quantile: float, buckets: Mapping[float, float]) -> float | None:
    """Prometheus's estimate from per-bucket (not cumulative) counts: linear within the bucket that
    holds the rank; the upper bound of the last finite bucket when it falls in +Inf."""
    total = sum(buckets.values())
    if total <= 0:
        return None
    rank = quantile * total
    seen, lower = 0.0, 0.0
    bounds = sorted(buckets)
    for bound in bounds:
        count = buckets[bound]
        if seen + count >= rank and count > 0:
            if math.isinf(bound):
                finite = [b for b in bounds if not math.isinf(b)]
                return finite[-1] if finite else None
            return lower + (bound - lower) * (rank - seen) / count
        seen += count
        lower = bound
    return lower
