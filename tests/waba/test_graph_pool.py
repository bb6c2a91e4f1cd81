"""The Graph client's connections against a real socket server: what one thread's pool closes is
never under another thread's request in flight, and a connection the server closed takes no request.

httpcore's pool decides which connections to close under its lock and closes them after releasing
it, so with one pool shared by threads a request it had just handed one of them to could start in
between. Each thread has its own pool; these tests play the dangerous interleavings step by step.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpcore
import httpx
import pytest

from waba.graph import GraphClient, GraphError
from waba.graph import client as client_module

TOKEN = "EAAG-pool-token"
ANSWER = b'{"messaging_product":"whatsapp","messages":[{"id":"wamid.pool"}]}'


@dataclass
class KeepAliveServer:
    """HTTP/1.1 on one listening socket, keep-alive, one thread per connection.

    Holds its answer to the request numbered `hold_request` until `release` is set.
    """

    hold_request: int | None = None
    release: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[int, bytes]] = field(default_factory=list)
    connections: list[socket.socket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections.append(conn)
                number = len(self.connections)
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, connection_number: int) -> None:
        reader = conn.makefile("rb")
        try:
            while True:
                head = [reader.readline()]
                if head[0] in (b"", b"\r\n"):
                    return
                while head[-1] not in (b"\r\n", b""):
                    head.append(reader.readline())
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                body = reader.read(length)
                with self._lock:
                    self.requests.append((connection_number, head[0] + body))
                    number = len(self.requests)
                if number == self.hold_request:
                    self.holding.set()
                    self.release.wait(10)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(ANSWER)}\r\n\r\n".encode()
                    + ANSWER
                )
        except OSError:
            return
        finally:
            reader.close()
            conn.close()

    def stop(self) -> None:
        self.release.set()
        self._listener.close()
        for conn in list(self.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    client_module.close_shared_clients()
    server = KeepAliveServer()
    yield server
    server.stop()
    client_module.close_shared_clients()


def pool_connections(client: GraphClient) -> list[httpcore.ConnectionInterface]:
    transport = client._http._transport
    assert isinstance(transport, httpx.HTTPTransport)
    return transport._pool.connections


def send(client: GraphClient) -> str:
    answer = client.send_message("pn1", {"to": "15550001111", "type": "text", "text": {"body": "hi"}})
    return str(answer["messages"][0]["id"])


def test_another_threads_pool_closing_its_connections_never_touches_a_request_in_flight(server):
    """What a pool pass does to expired connections (close them) in one thread cannot reach the
    connection another thread is sending on, even through the same GraphClient handle."""
    client = GraphClient(TOKEN, base_url=server.base_url, version="v23.0", timeout_s=5)
    server.hold_request = 1
    outcome: dict[str, object] = {}

    def held_send() -> None:
        try:
            outcome["wamid"] = send(client)
        except GraphError as error:
            outcome["error"] = error

    sender = threading.Thread(target=held_send)
    sender.start()
    assert server.holding.wait(5), "the request never reached the server"

    assert send(client) == "wamid.pool"  # this thread's own connection
    for connection in pool_connections(client):  # what this thread's pool may close
        connection.close()
    server.release.set()
    sender.join(10)

    assert outcome == {"wamid": "wamid.pool"}
    assert sorted(number for number, _ in server.requests) == [1, 2]  # two connections, one each
    assert all(raw.startswith(b"POST /v23.0/pn1/messages HTTP/1.1\r\n") for _, raw in server.requests)


def test_a_connection_the_server_closed_takes_no_request(server):
    """The server closed an idle kept-alive connection; the next send goes out on a new one."""
    client = GraphClient(TOKEN, base_url=server.base_url, version="v23.0", timeout_s=5)
    assert send(client) == "wamid.pool"
    [connection] = pool_connections(client)
    server.connections[0].shutdown(socket.SHUT_RDWR)  # as a server's keep-alive timeout does

    for _ in range(500):  # until the server's close has reached us
        if connection.has_expired():
            break
        time.sleep(0.01)
    else:
        pytest.fail("the server's close never reached the client")

    assert send(client) == "wamid.pool"
    assert [number for number, _ in server.requests] == [1, 2]
    assert pool_connections(client) != [connection]


def test_the_client_drops_an_idle_connection_before_the_simulator_does():
    """Otherwise a send could go out on a connection the server is closing: an unknown outcome."""
    from graph_simulator.transport import IDLE_TIMEOUT_S

    assert client_module.POOL_LIMITS.keepalive_expiry is not None
    assert client_module.POOL_LIMITS.keepalive_expiry < IDLE_TIMEOUT_S
