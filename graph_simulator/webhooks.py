"""Signed outbound webhooks, sent from background threads so no Graph request ever waits on them.

Events queue up; a few worker threads POST them in Meta's envelope with `X-Hub-Signature-256`.
Under load a worker folds the events already queued for one target into a single POST (several
entries and changes, as Meta does); a lone event goes alone. A failed POST (non-2xx or connection
error) is retried as the same body after the configured delays, then counted as failed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from graph_simulator.config import SimulatorConfig
from graph_simulator.constants import (
    WEBHOOK_LOG_CAPACITY,
    WEBHOOK_MESSAGES_FIELD,
    WEBHOOK_OBJECT,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_SIGNATURE_PREFIX,
)
from graph_simulator.scheduler import Scheduler
from graph_simulator.state import WebhookTarget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookEvent:
    """One change: `value` posted under `field` in the entry of `waba_id`."""

    waba_id: str
    field: str
    value: dict[str, Any]


@dataclass
class _Delivery:
    target: WebhookTarget
    events: list[WebhookEvent]
    attempt: int = 0
    payload: dict[str, Any] | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def sign(body: bytes, secret: str) -> str:
    return WEBHOOK_SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(events: list[WebhookEvent]) -> dict[str, Any]:
    """Meta's envelope: one entry per WABA, one change per event, in order."""
    entries: dict[str, dict[str, Any]] = {}
    now = int(time.time())
    for event in events:
        entry = entries.setdefault(event.waba_id, {"id": event.waba_id, "changes": []})
        entry["changes"].append({"field": event.field, "value": event.value})
        if event.field != WEBHOOK_MESSAGES_FIELD:
            entry["time"] = now
    return {"object": WEBHOOK_OBJECT, "entry": list(entries.values())}


class WebhookSender:
    def __init__(
        self, scheduler: Scheduler, config: Callable[[], SimulatorConfig], *, workers: int = 4
    ) -> None:
        self._scheduler = scheduler
        self._config = config
        self._queue: queue.Queue[_Delivery | None] = queue.Queue()
        self._lock = threading.Lock()
        self._log: deque[dict[str, Any]] = deque(maxlen=WEBHOOK_LOG_CAPACITY)
        self._sequence = 0
        self._in_flight = 0
        self._counts = dict.fromkeys(
            ("posts_ok", "posts_failed", "events_delivered", "events_failed", "events_dropped", "retries"), 0
        )
        self._workers = [
            threading.Thread(target=self._work, name=f"graph-sim-webhooks-{n}", daemon=True)
            for n in range(workers)
        ]
        for worker in self._workers:
            worker.start()

    # --- public ----------------------------------------------------------------------------------

    def submit(self, targets: list[WebhookTarget], event: WebhookEvent) -> None:
        """Queue `event` for each target; with no target it is dropped (and counted, and logged)."""
        if not targets:
            with self._lock:
                self._counts["events_dropped"] += 1
                self._record(
                    None, [event], envelope([event]), status=None, error="no webhook target", attempt=0
                )
            return
        for target in targets:
            self._queue.put(_Delivery(target, [event]))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._counts) | {"queued": self._queue.qsize(), "in_flight": self._in_flight}

    def idle(self) -> bool:
        with self._lock:
            return self._queue.empty() and self._in_flight == 0

    def recent(
        self, *, limit: int = 100, field_name: str | None = None, since_seq: int = 0
    ) -> list[dict[str, Any]]:
        with self._lock:
            records = [r for r in self._log if r["seq"] > since_seq]
        if field_name:
            records = [r for r in records if field_name in r["fields"]]
        return records[-limit:] if limit else records

    def reset(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        with self._lock:
            self._log.clear()
            self._counts = dict.fromkeys(self._counts, 0)

    def stop(self) -> None:
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout=2)

    # --- workers ---------------------------------------------------------------------------------

    def _work(self) -> None:
        connections: dict[tuple[str, str], http.client.HTTPConnection] = {}
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch_max = self._config().webhook_batch_max
            taken = [first]
            while len(taken) < batch_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                taken.append(item)
            with self._lock:
                self._in_flight += len(taken)
            for delivery in self._batches(taken, batch_max):
                try:
                    self._deliver(delivery, connections)
                except Exception:  # a bug in one delivery must not kill the worker
                    logger.exception("webhook delivery crashed")
            with self._lock:
                self._in_flight -= len(taken)
        for connection in connections.values():
            connection.close()

    @staticmethod
    def _batches(taken: list[_Delivery], batch_max: int) -> list[_Delivery]:
        """Fold fresh deliveries per target; a retry keeps its own body so Meta-like retries repeat it."""
        merged: dict[WebhookTarget, list[_Delivery]] = {}
        batches: list[_Delivery] = []
        for delivery in taken:
            if delivery.body is not None:
                batches.append(delivery)
                continue
            groups = merged.setdefault(delivery.target, [])
            if groups and len(groups[-1].events) < batch_max:
                groups[-1].events.extend(delivery.events)
            else:
                groups.append(_Delivery(delivery.target, list(delivery.events)))
        for groups in merged.values():
            batches.extend(groups)
        return batches

    def _deliver(
        self, delivery: _Delivery, connections: dict[tuple[str, str], http.client.HTTPConnection]
    ) -> None:
        config = self._config()
        if delivery.body is None:
            delivery.payload = envelope(delivery.events)
            delivery.body = json.dumps(delivery.payload, separators=(",", ":")).encode()
            delivery.headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
            if delivery.target.secret:
                delivery.headers[WEBHOOK_SIGNATURE_HEADER] = sign(delivery.body, delivery.target.secret)
        delivery.attempt += 1
        status: int | None = None
        error: str | None = None
        try:
            status = _post(
                delivery.target.url, delivery.body, delivery.headers, connections, config.webhook_timeout_s
            )
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivered = status is not None and 200 <= status < 300
        with self._lock:
            self._record(
                delivery.target.url,
                delivery.events,
                delivery.payload,
                status=status,
                error=error,
                attempt=delivery.attempt,
            )
            if delivered:
                self._counts["posts_ok"] += 1
                self._counts["events_delivered"] += len(delivery.events)
                return
            self._counts["posts_failed"] += 1
            delays = config.webhook_retry_delays_s
            if delivery.attempt <= len(delays):
                self._counts["retries"] += 1
            else:
                self._counts["events_failed"] += len(delivery.events)
                return
        self._scheduler.call_later(delays[delivery.attempt - 1], self._queue.put, delivery)

    def _record(
        self,
        url: str | None,
        events: list[WebhookEvent],
        payload: dict[str, Any] | None,
        *,
        status: int | None,
        error: str | None,
        attempt: int,
    ) -> None:
        self._sequence += 1
        self._log.append(
            {
                "seq": self._sequence,
                "at": time.time(),
                "url": url,
                "status": status,
                "error": error,
                "attempt": attempt,
                "events": len(events),
                "fields": sorted({event.field for event in events}),
                "payload": payload,
            }
        )


def _post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    connections: dict[tuple[str, str], http.client.HTTPConnection],
    timeout: float,
) -> int:
    """POST over a kept-alive connection; if a pooled connection went stale, retry once on a fresh one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    key = (parts.scheme, parts.netloc)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pooled = connections.pop(key, None)
    if pooled is not None:
        try:
            return _post_once(pooled, key, path, body, headers, connections)
        except (OSError, http.client.HTTPException):
            pass  # the receiver closed the idle connection: not a delivery failure
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return _post_once(connection_class(parts.netloc, timeout=timeout), key, path, body, headers, connections)


def _post_once(
    connection: http.client.HTTPConnection,
    key: tuple[str, str],
    path: str,
    body: bytes,
    headers: dict[str, str],
    connections: dict[tuple[str, str], http.client.HTTPConnection],
) -> int:
    """One POST; the connection goes back to the pool only if it can be reused."""
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
    except BaseException:
        connection.close()
        raise
    if response.will_close:
        connection.close()
    else:
        connections[key] = connection
    return response.status
