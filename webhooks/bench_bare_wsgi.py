"""The baseline `bench_webhooks --compare-bare` measures the platform against: a bare WSGI app.

It does only what acknowledging a webhook cannot skip: read the body, check Meta's HMAC with the
app's secret, and make one INSERT into the same journal table, then answer 200. No Django, no
routing, no throttle, no logging. Served by the same granian settings and loaded by the same
clients in the same run, it tells how close the platform's fast path is to the floor.

Configured by the benchmark through the environment: DATABASE_URL, BENCH_APP_ID, BENCH_APP_SECRET.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg

_INSERT = (
    'INSERT INTO "public"."webhooks_journal" '
    "(app_id, body, signature_verified, received_at, state, available_at, attempts, claimed_by, last_error) "
    "VALUES (%s, %s, true, %s, 'pending', %s, 0, '', '')"
)
_local = threading.local()


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return conn


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    app_id = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
    if environ.get("REQUEST_METHOD") != "POST" or app_id != os.environ["BENCH_APP_ID"]:
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    expected = "sha256=" + hmac.new(os.environ["BENCH_APP_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, environ.get("HTTP_X_HUB_SIGNATURE_256", "")):
        start_response("401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    now = datetime.now(tz=UTC)
    _connection().execute(_INSERT, (app_id, body, now, now))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"OK"]
