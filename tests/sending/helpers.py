"""Test helpers: run a worker in the test's thread, queue messages, replay the simulator's status webhooks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from messaging.statuses import message_status_apply
from sending.services import message_send
from sending.worker import SendWorker
from tenants.context import connection
from waba.webhook_events import StatusUpdate, parse_envelope


def drain(tenant, *, max_seconds: float = 10.0, threads: int = 4) -> SendWorker:
    """Run a send worker for `tenant` until nothing is left to send (or `max_seconds`).

    It runs in the test's thread, so it sees the test's uncommitted rows; its pool threads only
    talk to the simulator.
    """
    worker = SendWorker(threads=threads, name="test-worker")
    worker.run(max_seconds=max_seconds, schemas=[tenant.schema_name], until_idle=True, listen=False)
    connection.set_schema_to_public()
    return worker


def queue_text(number, wa_id: str, body: str = "Hello", **extra):
    return message_send(
        phone_number_id=number.phone_number_id,
        to="+" + wa_id,
        content={"type": "text", "text": {"body": body}},
        **extra,
    ).message


def graph_sends(simulator, number) -> list[dict]:
    return simulator.requests(path_contains=f"/{number.phone_number_id}/messages", method="POST")


def status_webhooks_deliver(simulator) -> int:
    """Apply the status webhooks the simulator posted (to no one) the way webhook processing does.

    Call inside the tenant's schema. Returns how many statuses there were.
    """
    count = 0
    for record in simulator.webhooks(limit=0, field_name="messages"):
        for event in parse_envelope(record["payload"]):
            if isinstance(event, StatusUpdate):
                message_status_apply(event=event)
                count += 1
    return count


PACING_LOGGER = "sending.pacing"
_PACING_LINE = re.compile(r"sends message (\d+) from (\S+): slot ([\d.]+) late (-?[\d.]+)")


@dataclass(frozen=True)
class PacedSend:
    """One send as the pacing log records it: the limiter's slot (store clock) and the lateness."""

    message_id: int
    phone_number_id: str
    slot: float
    late_s: float


def paced_sends(lines: Iterable[str]) -> list[PacedSend]:
    """The sends named in pacing log lines (worker logs or caplog messages), in slot order."""
    sends = [
        PacedSend(int(m[1]), m[2], float(m[3]), float(m[4]))
        for m in (_PACING_LINE.search(line) for line in lines)
        if m
    ]
    return sorted(sends, key=lambda send: send.slot)


def caplog_paced_sends(caplog) -> list[PacedSend]:
    return paced_sends(r.getMessage() for r in caplog.records if r.name == PACING_LOGGER)


def max_in_window(times: Iterable[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + window) for start in times)
