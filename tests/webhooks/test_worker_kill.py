"""Killing a webhook worker mid-batch loses nothing: a restarted worker finishes, each event counted once.

Real processes against committed rows: `manage.py process_webhooks` runs as a subprocess on this
test database, is SIGKILLed while it works through the journal, and a second one takes over once
the dead worker's lease runs out.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from messaging.models import Conversation, Message
from tests.fixtures import load_webhook_fixture
from tests.webhooks.conftest import APP_ID, run_committed
from webhooks.journal import journal_entry_record
from webhooks.models import WebhookJournalEntry

ENTRIES = 80
MESSAGES_PER_ENTRY = 4
LEASE_S = 2
BASE_DIR = Path(settings.BASE_DIR)


def _body(entry: int) -> bytes:
    payload = load_webhook_fixture("message_text")
    value = payload["entry"][0]["changes"][0]["value"]
    template = value["messages"][0]
    value["messages"] = [
        {**template, "id": f"wamid.kill-{entry:04d}-{n}", "text": {"body": f"entry {entry} message {n}"}}
        for n in range(MESSAGES_PER_ENTRY)
    ]
    return json.dumps(payload).encode()


def _test_database_url() -> str:
    from platform_core.db import embedded_database_url

    parts = urlsplit(settings.DATABASE_URL or embedded_database_url())
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def _start_worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "DEBUG": "0",  # production settings: secrets must be passed explicitly
        "SECRET_KEY": settings.SECRET_KEY,
        "ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "manage.py", "process_webhooks", "--batch-size", "10",
               "--lease-seconds", str(LEASE_S), "--idle-sleep", "0.05"]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _states(entry_ids: list[int]) -> dict[str, int]:
    states: dict[str, int] = {}
    for state in WebhookJournalEntry.objects.filter(id__in=entry_ids).values_list("state", flat=True):
        states[state] = states.get(state, 0) + 1
    return states


def _mid_batch(entry_ids: list[int]):
    """True once some entries are done and others are claimed but not finished: a batch in flight."""

    def condition() -> bool:
        states = _states(entry_ids)
        return states.get("processed", 0) >= 15 and states.get("processing", 0) >= 3

    return condition


def _wait_for(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(committed_number):
    tenant, number = committed_number
    entry_ids = run_committed(
        lambda: [journal_entry_record(app_id=APP_ID, body=_body(n), signature_verified=True) for n in range(ENTRIES)]
    )

    first = _start_worker()
    try:
        run_committed(_wait_for, _mid_batch(entry_ids), 120, "the first worker to be mid-batch")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # no chance to finish or give anything back
        first.wait(timeout=10)
    at_kill = run_committed(_states, entry_ids)
    assert at_kill.get("processed", 0) < ENTRIES, "the worker finished before it could be killed"
    assert at_kill.get("processing", 0) > 0, f"nothing was in flight at the kill: {at_kill}"

    second = _start_worker()
    try:
        run_committed(_wait_for, lambda: _states(entry_ids) == {"processed": ENTRIES}, 90,
                      "the second worker to finish")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        _, errors = second.communicate(timeout=20)
    assert second.returncode == 0, errors.decode()[-2000:]

    def stored() -> dict:
        with schema_context(tenant.schema_name):
            messages = Message.objects.filter(phone_number=number)
            conversation = Conversation.objects.get(phone_number=number)
            return {"messages": messages.count(), "distinct": messages.values("wamid").distinct().count(),
                    "message_count": conversation.message_count, "unread": conversation.unread_count}

    total = ENTRIES * MESSAGES_PER_ENTRY
    assert run_committed(stored) == {"messages": total, "distinct": total, "message_count": total, "unread": total}
