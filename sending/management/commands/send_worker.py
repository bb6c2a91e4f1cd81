"""`manage.py send_worker`: one send worker process (run as many as you like, on any machine)."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from sending.worker import SendWorker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Send queued WhatsApp messages of every active tenant through the shared rate limiter."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threads", type=int, default=None, help="Graph request threads (SEND_WORKER_THREADS)")
        parser.add_argument("--max-seconds", type=float, default=None, help="stop after this long")
        parser.add_argument("--name", default="send-worker", help="name in log lines")

    def handle(self, *args: Any, threads: int | None, max_seconds: float | None, name: str, **options: Any) -> None:
        # A worker serves no pages; with DEBUG on, Django would also keep every query it runs.
        settings.DEBUG = False
        # Pacing wants a thread whose slot has come to get the interpreter within a millisecond.
        sys.setswitchinterval(0.001)
        # httpx logs every request at INFO: at hundreds of sends a second that drowns everything else.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        worker = SendWorker(threads=threads, name=name)

        def stop(signum: int, frame: Any) -> None:
            worker.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("%s started (%s threads)", name, worker.threads)
        try:
            worker.run(max_seconds=max_seconds)
        finally:
            connections.close_all()
            logger.info("%s stopped after sending %s messages", name, worker.sent_total)
