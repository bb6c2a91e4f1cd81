"""Heartbeats of the worker processes: written from their loops, read by /readyz and /metrics.

`Heartbeat.beat()` is cheap to call on every turn of a loop: it writes (one upsert into the public
schema's `platform_process_heartbeat`, on the database's clock) at most every
HEARTBEAT_INTERVAL_S, and never raises: a failed beat is logged and tried again on the next turn,
so a database hiccup never stops a worker (it shows as a stale heartbeat instead). At most hourly,
each process also deletes the rows not refreshed for a day (processes that are gone).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection, models
from django_tenants.utils import get_public_schema_name

from platform_core.models import ProcessHeartbeat

logger = logging.getLogger(__name__)

WEBHOOK_WORKER = "webhook_worker"
SEND_WORKER = "send_worker"
PROCESS_TYPES = (WEBHOOK_WORKER, SEND_WORKER)

PRUNE_EVERY_S = 3600.0
PRUNE_AFTER_S = 24 * 3600


def public_table(model: type[models.Model]) -> str:
    """The quoted, schema-qualified name of a public-schema model's table: usable from any search_path."""
    quote = connection.ops.quote_name
    return f"{quote(get_public_schema_name())}.{quote(model._meta.db_table)}"


class Heartbeat:
    """The heartbeat of this process as `process_type`; create one per loop and call `beat()` often."""

    def __init__(self, process_type: str, *, interval_s: float | None = None) -> None:
        self.process_type = process_type
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.interval_s = settings.HEARTBEAT_INTERVAL_S if interval_s is None else interval_s
        self._next_beat = 0.0
        self._next_prune = 0.0

    def beat(self, *, force: bool = False) -> bool:
        """Write the heartbeat if it is due (or `force`). Returns whether a row was written."""
        now = time.monotonic()
        if not force and now < self._next_beat:
            return False
        self._next_beat = now + self.interval_s
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {public_table(ProcessHeartbeat)} (process_type, host, pid, started_at, last_beat_at) "
                    "VALUES (%s, %s, %s, now(), now()) "
                    "ON CONFLICT (process_type, host, pid) DO UPDATE SET last_beat_at = now()",
                    [self.process_type, self.host, self.pid],
                )
                if now >= self._next_prune:
                    self._next_prune = now + PRUNE_EVERY_S
                    cursor.execute(
                        f"DELETE FROM {public_table(ProcessHeartbeat)} WHERE last_beat_at < now() - make_interval(secs => %s)",
                        [PRUNE_AFTER_S],
                    )
        except DatabaseError:
            logger.warning("Writing the %s heartbeat failed; trying again on the next beat.",
                           self.process_type, exc_info=True)
            return False
        return True


@dataclass(frozen=True)
class ProcessTypeBeat:
    """The freshest heartbeat of one process type, and how many of its processes beat recently."""

    process_type: str
    last_beat_at: datetime
    age_s: float
    alive: int


def heartbeats_by_type(*, alive_within_s: float) -> dict[str, ProcessTypeBeat]:
    """Per process type that ever beat: its freshest beat, its age (database clock) and how many
    processes beat within `alive_within_s`. One query on a table of a row per process."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT process_type, max(last_beat_at), extract(epoch FROM now() - max(last_beat_at)), "
            f"count(*) FILTER (WHERE last_beat_at >= now() - make_interval(secs => %s)) "
            f"FROM {public_table(ProcessHeartbeat)} GROUP BY process_type",
            [alive_within_s],
        )
        rows = cursor.fetchall()
    return {
        process_type: ProcessTypeBeat(process_type, last_beat_at, max(float(age), 0.0), alive)
        for process_type, last_beat_at, age, alive in rows
    }
