"""A real PgBouncer (Debian's `pgbouncer` package) in front of the test database: which pool mode
works with the tenants' schema switching.

Each client below is a connection of the project's database backend (django-tenants) through
PgBouncer, as a web or worker process holds one; the two tenants' requests are interleaved
between them. In `session` mode each client keeps its server connection, so the `SET
search_path` issued once per tenant switch (TENANT_LIMIT_SET_CALLS) stays true, and PgBouncer's
`DISCARD ALL` clears it before the server connection serves another client. In `transaction`
mode the server connection changes hands after every transaction, and the search path set by one
client is what the next client's statement runs with: one tenant reads another's rows. It does
so with TENANT_LIMIT_SET_CALLS off as well, since in autocommit the `SET` and the query are two
transactions.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connections
from django.test import override_settings

from tenants.context import connection

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db,
    pytest.mark.skipif(
        PGBOUNCER is None, reason="PgBouncer is not installed (Debian: apt-get install pgbouncer)"
    ),
]

PROBE_TABLE = "pgbouncer_probe"


def _server_conninfo() -> dict[str, Any]:
    """How Django reaches the test database: a host name or a socket directory, a port."""
    params = connection.get_connection_params()
    return {key: params[key] for key in ("dbname", "user", "password", "host", "port") if params.get(key)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _pgbouncer(folder: Path, *, pool_mode: str, pool_size: int) -> Iterator[int]:
    """A PgBouncer on a free loopback port in front of the test database's server; yields the port."""
    server = _server_conninfo()
    port = _free_port()
    user = server.get("user", "postgres")
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server.get('host', 'localhost')} port={server.get('port', 5432)}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'userlist.txt'}\n"
        f"pool_mode = {pool_mode}\ndefault_pool_size = {pool_size}\nmax_client_conn = 20\n"
        # What psycopg may send at start-up that PgBouncer does not track itself.
        "ignore_startup_parameters = extra_float_digits,options\n"
    )
    command = [str(PGBOUNCER), str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root: run it as the owner of the server's socket directory
        # (the embedded server's user), which can also reach that socket.
        host = Path(server.get("host", ""))
        owner = host.owner() if host.is_dir() else "nobody"
        command[1:1] = ["-u", owner]
    log = (folder / "pgbouncer.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"PgBouncer did not start: {(folder / 'pgbouncer.log').read_text()}")
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _client(port: int, name: str):
    """A connection of the project's database backend, through PgBouncer."""
    settings_dict = {
        **connection.settings_dict,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "OPTIONS": {},
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
    }
    return type(connections["default"])(settings_dict, alias=name)


def _rows_of(client, schema: str | None = None) -> list[str]:
    """A tenant's request: switch the client to `schema` (when given), read the probe table unqualified."""
    if schema is not None:
        client.set_schema(schema)
    with client.cursor() as cursor:
        cursor.execute(f"SELECT tenant FROM {PROBE_TABLE}")
        return [row[0] for row in cursor.fetchall()]


def _server_pid(client) -> int:
    with client.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


@pytest.fixture
def probe_rows(tenant_a, tenant_b) -> Iterator[tuple[str, str]]:
    """One committed row naming its tenant in a table of the same name in each tenant's schema
    (committed, so PgBouncer's clients see them; dropped at the end)."""
    schemas = (tenant_a.schema_name, tenant_b.schema_name)
    with psycopg.connect(**_server_conninfo(), autocommit=True) as admin:
        for schema, slug in zip(schemas, (tenant_a.slug, tenant_b.slug), strict=True):
            admin.execute(f'CREATE TABLE "{schema}".{PROBE_TABLE} (tenant text)')
            admin.execute(f'INSERT INTO "{schema}".{PROBE_TABLE} VALUES (%s)', [slug])
        try:
            yield schemas
        finally:
            for schema in schemas:
                admin.execute(f'DROP TABLE IF EXISTS "{schema}".{PROBE_TABLE}')


@override_settings(TENANT_LIMIT_SET_CALLS=True)
def test_session_pooling_keeps_each_clients_tenant(probe_rows, tmp_path):
    alpha, beta = probe_rows
    with _pgbouncer(tmp_path, pool_mode="session", pool_size=2) as port:
        web_1, web_2 = _client(port, "web_1"), _client(port, "web_2")
        try:
            assert _rows_of(web_1, alpha) == ["alpha"]
            assert _rows_of(web_2, beta) == ["beta"]
            assert _rows_of(web_1) == ["alpha"]  # no SET issued again: its server connection kept the path
            assert _rows_of(web_2) == ["beta"]
            assert _rows_of(web_1, beta) == ["beta"]  # a switch sets the path again
            assert _rows_of(web_2, alpha) == ["alpha"]
            servers = {_server_pid(web_1), _server_pid(web_2)}
            assert len(servers) == 2
            web_1.close()

            # The next client is handed a server connection another client used, reset by DISCARD ALL.
            bouncer = {**_server_conninfo(), "host": "127.0.0.1", "port": port}
            with psycopg.connect(**bouncer) as plain_client:  # sends no SET of its own
                server, search_path = plain_client.execute(
                    "SELECT pg_backend_pid(), current_setting('search_path')"
                ).fetchone()
            with psycopg.connect(**_server_conninfo()) as direct:  # a fresh session on the server itself
                default_path = direct.execute("SELECT current_setting('search_path')").fetchone()[0]
            assert server in servers
            assert search_path == default_path
        finally:
            web_1.close()
            web_2.close()


@override_settings(TENANT_LIMIT_SET_CALLS=True)
def test_transaction_pooling_leaks_one_tenants_search_path_to_another(probe_rows, tmp_path):
    alpha, beta = probe_rows
    with _pgbouncer(tmp_path, pool_mode="transaction", pool_size=1) as port:
        web_1, web_2 = _client(port, "web_1"), _client(port, "web_2")
        try:
            assert _rows_of(web_1, alpha) == ["alpha"]
            assert _rows_of(web_2, beta) == ["beta"]
            # web_1 still serves alpha and sends no SET (it set the path already), but the one
            # server connection now has beta's path: alpha's request reads beta's rows.
            assert _rows_of(web_1) == ["beta"]
            assert _server_pid(web_1) == _server_pid(web_2)
        finally:
            web_1.close()
            web_2.close()


@override_settings(TENANT_LIMIT_SET_CALLS=False)
def test_transaction_pooling_leaks_even_with_a_set_before_every_statement(probe_rows, tmp_path):
    alpha, beta = probe_rows
    with _pgbouncer(tmp_path, pool_mode="transaction", pool_size=1) as port:
        web_1, web_2 = _client(port, "web_1"), _client(port, "web_2")
        try:
            web_1.set_schema(alpha)
            cursor = web_1.cursor()  # sends SET search_path to alpha: its own transaction in autocommit
            assert _rows_of(web_2, beta) == ["beta"]  # another client's SET and query in between
            cursor.execute(f"SELECT tenant FROM {PROBE_TABLE}")
            assert [row[0] for row in cursor.fetchall()] == ["beta"]
            cursor.close()
        finally:
            web_1.close()
            web_2.close()
