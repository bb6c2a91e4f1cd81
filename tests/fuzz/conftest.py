"""Fuzzing fixtures: the Hypothesis profile (see profiles.py), the network guard, in-process WSGI calls."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from tests.fuzz.profiles import profile_load


def pytest_configure(config: pytest.Config) -> None:
    profile_load(config.getoption("hypothesis_profile", None))


def _loopback(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch) -> None:
    """Nothing a fuzzed request triggers leaves this machine: only loopback (the simulator) is reachable."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        if not _loopback(name):
            raise OSError(f"fuzz tests may not resolve {name!r}: only loopback is reachable")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(str(address[0])):
            raise OSError(f"fuzz tests may not connect to {address[0]!r}: only loopback is reachable")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def wsgi_in_test_transaction() -> Iterator[None]:
    """Call the real WSGI application in-process inside the test's transaction.

    Django closes the connection around each request (`close_old_connections`), which would end
    the test's transaction; Django's own test client unhooks it the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
