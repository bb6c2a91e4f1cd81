"""A small HTTP/1.1 server: keep-alive, a thread per connection, one write per response.

Written on `socketserver` rather than `http.server` because the send benchmark needs thousands
of requests a second: this parser reads headers with plain `readline` (no email parser), and
each response leaves in a single `sendall`, so Nagle and delayed ACKs never stall a kept-alive
connection.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import parse_qsl, unquote

from graph_simulator.constants import MAX_REQUEST_BODY_BYTES
from graph_simulator.errors import GraphError

logger = logging.getLogger(__name__)

_REASONS = {status.value: status.phrase for status in HTTPStatus}
_MAX_LINE = 65_536
_MAX_HEADERS = 100
IDLE_TIMEOUT_S = 120


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    content_type: str | None
    data: bytes


class Request:
    """One parsed request; body decoding (JSON, form, multipart) happens lazily, once."""

    __slots__ = ("_json", "_params", "_query", "body", "headers", "method", "path", "query_string")

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        path, _, query_string = target.partition("?")
        self.method = method
        self.path = unquote(path)
        self.query_string = query_string
        self.headers = headers
        self.body = body
        self._query: dict[str, str] | None = None
        self._params: dict[str, Any] | None = None
        self._json: Any = None

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            self._query = dict(parse_qsl(self.query_string, keep_blank_values=True))
        return self._query

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON (None when empty); malformed JSON is Graph's error 100."""
        if self._json is None and self.body:
            try:
                self._json = json.loads(self.body)
            except ValueError:
                raise GraphError(100, "The request body is not valid JSON.") from None
        return self._json

    def params(self) -> dict[str, Any]:
        """Query string, then body (JSON object, urlencoded or multipart fields) on top, like Graph."""
        if self._params is None:
            params: dict[str, Any] = dict(self.query)
            content_type = self.content_type
            if content_type == "multipart/form-data":
                params.update(_multipart(self.headers.get("content-type", ""), self.body))
            elif content_type == "application/x-www-form-urlencoded":
                params.update(parse_qsl(self.body.decode("utf-8", errors="replace"), keep_blank_values=True))
            elif self.body:
                data = self.json()
                if isinstance(data, dict):
                    params.update(data)
            self._params = params
        return self._params

    def access_token(self) -> str | None:
        authorization = self.headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            return authorization[7:].strip() or None
        if authorization[:6].lower() == "oauth ":
            return authorization[6:].strip() or None
        return self.query.get("access_token") or None


class Response:
    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=UTF-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(payload, separators=(",", ":")).encode())

    def serialize(self, keep_alive: bool) -> bytes:
        lines = [
            f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Unknown')}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
        ]
        if self.headers:
            lines.extend(f"{name}: {value}" for name, value in self.headers.items())
        if not keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def _multipart(content_type_header: str, body: bytes) -> dict[str, Any]:
    """Fields of a multipart/form-data body: files as `UploadedFile`, the rest as strings."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type_header.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise GraphError(100, "Malformed multipart/form-data body.")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        assert isinstance(payload, bytes)  # decode=True gives bytes, or None for a (nested) multipart part
        filename = part.get_filename()
        if filename is not None:
            fields[str(name)] = UploadedFile(filename, part.get_content_type(), payload)
        else:
            fields[str(name)] = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return fields


class _BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _read_request(rfile: Any, wfile: Any) -> tuple[Request, bool] | None:
    """Read one request; None at a clean end of the connection. Returns (request, keep_alive)."""
    line = rfile.readline(_MAX_LINE + 1)
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(_MAX_LINE + 1)
    if not line:
        return None
    if len(line) > _MAX_LINE:
        raise _BadRequest(414, "request line too long")
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(400, "malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS + 1):
        header = rfile.readline(_MAX_LINE + 1)
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise _BadRequest(431, "too many headers")
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    if headers.get("expect", "").lower() == "100-continue":
        wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _read_chunked(rfile)
    else:
        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            raise _BadRequest(400, "bad content-length") from None
        if length < 0 or length > MAX_REQUEST_BODY_BYTES:
            raise _BadRequest(413, "body too large")
        body = rfile.read(length) if length else b""
        if len(body) != length:
            return None
    return Request(method.upper(), target, headers, body), keep_alive


def _read_chunked(rfile: Any) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = rfile.readline(_MAX_LINE + 1)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadRequest(400, "bad chunk size") from None
        if size == 0:
            while rfile.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        total += size
        if total > MAX_REQUEST_BODY_BYTES:
            raise _BadRequest(413, "body too large")
        chunks.append(rfile.read(size))
        rfile.readline(_MAX_LINE + 1)


Handler = Callable[[Request], Response]


class _Connection(socketserver.StreamRequestHandler):
    timeout = IDLE_TIMEOUT_S
    disable_nagle_algorithm = True

    def handle(self) -> None:
        server = cast(HttpServer, self.server)
        try:
            while True:
                try:
                    parsed = _read_request(self.rfile, self.wfile)
                except _BadRequest as bad:
                    body = json.dumps({"error": {"message": str(bad), "type": "HttpException", "code": 1}})
                    self.wfile.write(Response(bad.status, body.encode()).serialize(keep_alive=False))
                    return
                if parsed is None:
                    return
                request, keep_alive = parsed
                response = server.handler(request)
                self.wfile.write(response.serialize(keep_alive))
                if not keep_alive:
                    return
        except (ConnectionError, TimeoutError, OSError):
            return


class HttpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], handler: Handler) -> None:
        self.handler = handler
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Connection)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake every kept-alive connection thread so `stop()` leaves nothing behind."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
