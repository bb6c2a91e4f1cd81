"""Stopping the embedded PostgreSQL at the end of `make run` / `make test`: never under another client."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from platform_core import db as embedded

pytestmark = pytest.mark.skipif(not settings.USES_EMBEDDED_DATABASE, reason="DATABASE_URL is set")


def test_the_embedded_server_stays_running_while_another_client_is_connected(db, monkeypatch):
    stops: list[str] = []
    monkeypatch.setattr(embedded, "embedded_stop", lambda: stops.append("stop") or True)
    with connection.cursor() as cursor:  # this test's own Django connection is a client of the server
        cursor.execute("SELECT 1")

    message = embedded.embedded_stop_unless_in_use()

    assert stops == []
    assert message.startswith("The embedded PostgreSQL stays running:")
    assert "`make stop-db` stops it." in message
    assert embedded.embedded_running()
