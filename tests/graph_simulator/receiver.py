"""A tiny local webhook receiver: records every POST the simulator makes and checks its signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    raw_body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.raw_body)

    def signature_valid(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.raw_body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-hub-signature-256", ""))

    def changes(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for entry in self.payload["entry"]:
            for change in entry["changes"]:
                yield change["field"], change["value"]


class WebhookReceiver:
    """Answers 200 (or the statuses queued in `fail_next`) and keeps what it received."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.fail_next: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    status = receiver.fail_next.pop(0) if receiver.fail_next else 200
                    if status == 200:
                        headers = {k.lower(): v for k, v in self.headers.items()}
                        receiver.deliveries.append(Delivery(self.path, headers, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/whatsapp"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def changes(self, field: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            deliveries = list(self.deliveries)
        return [(f, v) for d in deliveries for f, v in d.changes() if field is None or f == field]

    def statuses(self) -> list[dict[str, Any]]:
        return [s for _, value in self.changes("messages") for s in value.get("statuses", [])]

    def messages(self) -> list[dict[str, Any]]:
        return [m for _, value in self.changes("messages") for m in value.get("messages", [])]

    def wait_for(self, predicate: Callable[[], Any], timeout_s: float = 3.0) -> Any:
        """Poll until `predicate()` is truthy; returns its value or fails after the deadline."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting; received {self.changes()}")

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.fail_next.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
