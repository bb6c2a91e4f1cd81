"""`manage.py process_webhooks`: a webhook worker (run as many as you like, on any machine)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from webhooks.journal import LEASE_S
from webhooks.tasks import BATCH_SIZE, IDLE_SLEEP_S, webhook_worker_run

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Process the webhook journal: route every accepted webhook into its tenant's schema."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="entries claimed at once")
        parser.add_argument("--idle-sleep", type=float, default=IDLE_SLEEP_S, help="seconds between empty polls")
        parser.add_argument("--lease-seconds", type=float, default=LEASE_S,
                            help="after this long a claimed entry of a dead worker is taken again")
        parser.add_argument("--once", action="store_true", help="stop when nothing is left to claim")

    def handle(self, *args: Any, batch_size: int, idle_sleep: float, lease_seconds: float, once: bool,
               **options: Any) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: Any) -> None:
            stopping.set()  # finish the entry in hand, give back the rest of the batch, exit

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("Webhook worker started (batch %s, lease %ss)", batch_size, lease_seconds)
        try:
            count = webhook_worker_run(should_stop=stopping.is_set, batch_size=batch_size,
                                       idle_sleep_s=idle_sleep, lease_s=lease_seconds, exit_when_idle=once)
        finally:
            connections.close_all()
        logger.info("Webhook worker stopped after %s entries", count)
