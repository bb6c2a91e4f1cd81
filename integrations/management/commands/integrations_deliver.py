"""`manage.py integrations_deliver`: deliver the tenants' webhook events until stopped."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from integrations.worker import PER_ENDPOINT, THREADS, deliver_worker_run, deliveries_run_once


class Command(BaseCommand):
    help = "Deliver outbound webhook events (claims with leases; run as many as you like)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threads", type=int, default=THREADS, help="Attempts in flight at once.")
        parser.add_argument(
            "--per-endpoint", type=int, default=PER_ENDPOINT, help="Attempts in flight for any one endpoint."
        )
        parser.add_argument("--once", action="store_true", help="Deliver what is due now, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            done = deliveries_run_once(limit=options["threads"], per_endpoint=options["per_endpoint"])
            self.stdout.write(f"Attempted {done} deliveries.")
            return
        stopping = {"now": False}

        def stop(signum: int, frame: Any) -> None:
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        done = deliver_worker_run(
            should_stop=lambda: stopping["now"],
            threads=options["threads"],
            per_endpoint=options["per_endpoint"],
        )
        self.stdout.write(f"Stopped after {done} deliveries.")
