"""Send benchmark: how many `POST /{phone_number_id}/messages` a second the simulator answers.

    python -m graph_simulator.bench --threads 8 --seconds 5 [--processes 2] [--url http://127.0.0.1:8100]

Without `--url` it starts a simulator in a child process (as `make run` does), seeds one number
and one token, and drives it from `--processes` client processes x `--threads` keep-alive
httpx clients. Status webhooks stay on; they go to `--webhook-url`, or with `--sink` to a
throw-away receiver process answering 200, or else nowhere (dropped and counted).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx

from graph_simulator.process import spawn_simulator
from graph_simulator.transport import HttpServer, Response

PHONE_ID = "990000000000001"
TOKEN = "bench-token"
SEED = {
    "apps": [{"app_id": "990000000000100", "app_secret": "bench-secret"}],
    "wabas": [
        {
            "id": "990000000000010",
            "app_id": "990000000000100",
            "phone_numbers": [
                {"id": PHONE_ID, "display_phone_number": "+1 555-000-9999", "throughput": {"level": "HIGH"}}
            ],
        }
    ],
    "tokens": [{"token": TOKEN, "app_id": "990000000000100", "waba_ids": ["990000000000010"]}],
}


def _client_process(url: str, threads: int, seconds: float, results: Any) -> None:
    counts: list[int] = [0] * threads
    errors: list[int] = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    deadline = time.monotonic() + seconds

    def drive(index: int) -> None:
        body = {
            "messaging_product": "whatsapp",
            "to": f"1555{index:07d}",
            "type": "text",
            "text": {"body": "bench"},
        }
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = client.post(f"/v23.0/{PHONE_ID}/messages", json=body)
                latencies[index].append(time.perf_counter() - started)
                if response.status_code == 200:
                    counts[index] += 1
                else:
                    errors[index] += 1

    workers = [threading.Thread(target=drive, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((sum(counts), sum(errors), [x for per in latencies for x in per]))


def _sink_process(ports: Any) -> None:
    """A webhook receiver that answers 200 to everything, so status webhooks really flow."""
    server = HttpServer(("127.0.0.1", 0), lambda request: Response(200, b"", "text/plain"))
    ports.put(server.server_address[1])
    server.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graph_simulator.bench")
    parser.add_argument("--url", help="an already running simulator (default: start one)")
    parser.add_argument("--threads", type=int, default=8, help="keep-alive clients per process")
    parser.add_argument("--processes", type=int, default=1, help="client processes")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--webhook-url", default=None, help="where the started simulator posts status webhooks"
    )
    parser.add_argument(
        "--sink", action="store_true", help="post status webhooks to a local 200-only receiver"
    )
    options = parser.parse_args(argv)
    child = sink = None
    url = options.url
    webhook_url = options.webhook_url
    if options.sink:
        ports: Any = multiprocessing.Queue()
        sink = multiprocessing.Process(target=_sink_process, args=(ports,), daemon=True)
        sink.start()
        webhook_url = f"http://127.0.0.1:{ports.get(timeout=10)}/webhooks"
    if url is None:
        child = spawn_simulator(webhook_url=webhook_url)
        url = child.base_url
    try:
        httpx.post(f"{url}/_sim/seed", json=SEED).raise_for_status()
        results: Any = multiprocessing.Queue()
        processes = [
            multiprocessing.Process(
                target=_client_process, args=(url, options.threads, options.seconds, results)
            )
            for _ in range(options.processes)
        ]
        for process in processes:
            process.start()
        collected = [results.get() for _ in processes]
        for process in processes:
            process.join()
        ok = sum(c[0] for c in collected)
        failed = sum(c[1] for c in collected)
        latencies = sorted(x for c in collected for x in c[2])
        stats = httpx.get(f"{url}/_sim/stats").json()
    finally:
        if child is not None:
            child.stop()
        if sink is not None:
            sink.terminate()
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0
    print(
        f"{ok / options.seconds:.0f} requests/s accepted ({ok} ok, {failed} errors) with "
        f"{options.processes}x{options.threads} keep-alive clients over {options.seconds:.0f}s; "
        f"latency p50 {p50:.2f} ms, p99 {p99:.2f} ms; peak per second "
        f"{stats['messages'].get(PHONE_ID, {}).get('peak_per_second')}; webhooks {stats['webhooks']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
