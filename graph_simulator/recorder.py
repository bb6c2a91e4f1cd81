"""What the simulator saw: a bounded log of Graph requests and per-number send counts per second.

Tests read these through `/_sim/requests` and `/_sim/stats` to assert the exact request the
platform sent and how fast it sent to each phone number.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from typing import Any, NamedTuple

from graph_simulator.constants import REQUEST_LOG_CAPACITY, STATS_WINDOW_S, VERSION_SEGMENT
from graph_simulator.transport import Request, UploadedFile

_BODY_KEEP_BYTES = 64 * 1024
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class LoggedRequest(NamedTuple):
    """One request, kept compact (a tuple, the raw JSON body) because the log holds 200,000 of them."""

    seq: int
    method: str
    path: str
    query: dict[str, str] | None
    body: bytes | dict[str, Any] | None
    authorization: str | None
    received_at: float
    received_wall: float
    status: int
    duration_ms: float

    def as_dict(self) -> dict[str, Any]:
        segments = [s for s in self.path.split("/") if s]
        if segments and VERSION_SEGMENT.match(segments[0]):
            segments = segments[1:]
        body: Any = self.body
        if isinstance(body, bytes):
            try:
                body = json.loads(body)
            except ValueError:
                body = body.decode("utf-8", errors="replace")
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "object_id": segments[0] if segments else None,
            "edge": segments[1] if len(segments) > 1 else None,
            "query": self.query or {},
            "body": body,
            "authorization": self.authorization,
            "received_at": self.received_at,
            "received_wall": self.received_wall,
            "status": self.status,
            "duration_ms": self.duration_ms,
        }


def redact(token: str) -> str:
    return "…" + token[-4:]


class RequestLog:
    """A ring buffer of received Graph requests; appends are O(1) and hold the lock briefly."""

    def __init__(self, capacity: int = REQUEST_LOG_CAPACITY) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=capacity)
        self._sequence = 0

    def record(self, request: Request, status: int, received_at: float, received_wall: float) -> None:
        """Log a handled request; the bearer token and an app secret keep only their last 4 characters."""
        token = request.access_token()
        query = None
        if request.query_string:
            query = dict(request.query)
            for secret in ("access_token", "client_secret"):
                if secret in query:
                    query[secret] = redact(query[secret])
        duration_ms = round((time.monotonic() - received_at) * 1000, 3)
        authorization = sys.intern(f"Bearer {redact(token)}") if token else None
        body = _loggable_body(request)
        with self._lock:
            self._sequence += 1
            self._entries.append(
                LoggedRequest(
                    self._sequence,
                    sys.intern(request.method),
                    sys.intern(request.path),
                    query,
                    body,
                    authorization,
                    received_at,
                    received_wall,
                    status,
                    duration_ms,
                )
            )

    def query(
        self,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        since: float | None = None,
        since_seq: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Entries oldest first; `since` is a wall-clock unix time, `since_seq` a sequence number."""
        with self._lock:
            entries = list(self._entries)
        selected = [
            entry
            for entry in entries
            if entry.seq > since_seq
            and (path_contains is None or path_contains in entry.path)
            and (method is None or entry.method == method.upper())
            and (since is None or entry.received_wall >= since)
        ]
        if limit:
            selected = selected[-limit:]
        return [entry.as_dict() for entry in selected]

    def last_seq(self) -> int:
        with self._lock:
            return self._sequence

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _loggable_body(request: Request) -> bytes | dict[str, Any] | None:
    """Raw bytes for JSON (parsed only when read back); form fields, with files as a summary."""
    if not request.body:
        return None
    if request.content_type in _FORM_TYPES:
        try:
            params = request.params()
        except Exception:  # a body the endpoint refused is still worth logging
            return request.body[:_BODY_KEEP_BYTES]
        return {
            key: {"filename": v.filename, "content_type": v.content_type, "size": len(v.data)}
            if isinstance(v, UploadedFile)
            else v
            for key, v in params.items()
            if key not in request.query
        }
    return request.body[:_BODY_KEEP_BYTES]


class SendStats:
    """Accepted sends per phone number per wall-clock second, kept for the last hour."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per_phone: dict[str, dict[int, int]] = {}
        self._totals: dict[str, int] = {}
        self._rejected: dict[str, int] = {}

    def count(self, phone_number_id: str, *, accepted: bool, now: float | None = None) -> None:
        second = int(now if now is not None else time.time())
        with self._lock:
            if not accepted:
                self._rejected[phone_number_id] = self._rejected.get(phone_number_id, 0) + 1
                return
            seconds = self._per_phone.setdefault(phone_number_id, {})
            if second not in seconds:
                self._expire(seconds, second)
                seconds[second] = 0
            seconds[second] += 1
            self._totals[phone_number_id] = self._totals.get(phone_number_id, 0) + 1

    @staticmethod
    def _expire(seconds: dict[int, int], now_second: int) -> None:
        horizon = now_second - STATS_WINDOW_S
        for old in [s for s in seconds if s < horizon]:
            del seconds[old]

    def snapshot(self, *, window_s: int = 300) -> dict[str, Any]:
        now_second = int(time.time())
        with self._lock:
            phones = {}
            for phone_id, seconds in self._per_phone.items():
                recent = {str(s): n for s, n in sorted(seconds.items()) if s > now_second - window_s}
                phones[phone_id] = {
                    "total": self._totals.get(phone_id, 0),
                    "rejected": self._rejected.get(phone_id, 0),
                    "peak_per_second": max(seconds.values(), default=0),
                    "per_second": recent,
                }
            for phone_id, rejected in self._rejected.items():
                phones.setdefault(
                    phone_id, {"total": 0, "rejected": rejected, "peak_per_second": 0, "per_second": {}}
                )
            return phones

    def clear(self) -> None:
        with self._lock:
            self._per_phone.clear()
            self._totals.clear()
            self._rejected.clear()
