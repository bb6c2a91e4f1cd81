"""Command line: `python -m graph_simulator --port 8100 ...` and the `graph_simulator` command."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from graph_simulator.persistence import StateFileError
from graph_simulator.server import start_simulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both entry points share (the Django command adds them to its own parser)."""
    parser.add_argument("--port", type=int, default=8100, help="port to listen on (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument(
        "--webhook-url",
        default=None,
        help="default webhook URL for apps seeded without one; {app_id} in it becomes the app's id",
    )
    parser.add_argument("--app-secret", default=None, help="default app secret that signs webhooks")
    parser.add_argument("--seed", default=None, help="JSON file in the /_sim/seed shape, loaded at start-up")
    parser.add_argument(
        "--state-file",
        default=None,
        help="JSON file that keeps the accounts across restarts: loaded at start-up (before --seed), "
        "rewritten after changes; created if missing. Without it the simulator forgets everything on stop.",
    )
    parser.add_argument("--public-url", default=None, help="base URL to put in media and paging links")
    parser.add_argument("--status-delay-ms", type=float, default=None, help="delay between status webhooks")
    parser.add_argument(
        "--template-review-delay",
        type=float,
        default=None,
        help="seconds until a new template is approved or rejected (0 = at once)",
    )
    parser.add_argument(
        "--no-status-webhooks", action="store_true", help="send no status webhooks after sends"
    )
    parser.add_argument(
        "--enforce-window", action="store_true", help="refuse free-form sends outside 24 h (131047)"
    )
    parser.add_argument(
        "--enforce-throughput",
        action="store_true",
        help="answer 130429 beyond each number's messages per second",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")


def serve(options: Mapping[str, Any]) -> int:
    """Run in the foreground until Ctrl-C or SIGTERM."""
    config: dict[str, Any] = {}
    if options.get("status_delay_ms") is not None:
        config["status_delay_ms"] = options["status_delay_ms"]
    if options.get("template_review_delay") is not None:
        config["template_review_delay_s"] = options["template_review_delay"]
    if options.get("no_status_webhooks"):
        config["status_webhooks"] = False
    if options.get("enforce_window"):
        config["enforce_window"] = True
    if options.get("enforce_throughput"):
        config["enforce_throughput"] = True
    if options.get("verbose"):
        config["verbose"] = True
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        handle = start_simulator(
            port=options.get("port", 8100),
            host=options.get("host") or "127.0.0.1",
            webhook_url=options.get("webhook_url"),
            app_secret=options.get("app_secret"),
            seed=options.get("seed"),
            config=config,
            public_url=options.get("public_url"),
            state_file=options.get("state_file"),
        )
    except StateFileError as error:
        print(f"Graph API simulator: cannot load the state file: {error}", file=sys.stderr, flush=True)
        return 2
    stopped = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print(f"Graph API simulator listening on {handle.base_url}", flush=True)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graph_simulator", description="Local WhatsApp Cloud API simulator"
    )
    add_arguments(parser)
    return serve(vars(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
