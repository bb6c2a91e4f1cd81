"""The simulator in its own process, for benchmarks and end-to-end runs.

A thread in the test process shares its GIL with whatever it is measuring; a child process
(`python -m graph_simulator`) behaves like the separate system Meta is.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Self

STARTUP_TIMEOUT_S = 15


class SimulatorProcess:
    """A running child simulator: `base_url`, `process`, `stop()`; state only through `/_sim/...`."""

    def __init__(self, process: subprocess.Popen[str], base_url: str, seed_file: Path | None) -> None:
        self.process = process
        self.base_url = base_url
        self._seed_file = seed_file

    def stop(self, timeout_s: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        if self._seed_file:
            self._seed_file.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def spawn_simulator(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    webhook_url: str | None = None,
    app_secret: str | None = None,
    seed: dict[str, Any] | None = None,
    extra_args: list[str] | None = None,
) -> SimulatorProcess:
    """Start `python -m graph_simulator` and wait for its "listening on <url>" line (port 0 = any free)."""
    command = [sys.executable, "-m", "graph_simulator", "--port", str(port), "--host", host]
    if webhook_url:
        command += ["--webhook-url", webhook_url]
    if app_secret:
        command += ["--app-secret", app_secret]
    seed_file = None
    if seed is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(seed, handle)
        seed_file = Path(handle.name)
        command += ["--seed", str(seed_file)]
    command += extra_args or []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = _first_line(process)
    if not line.startswith("Graph API simulator listening on "):
        process.kill()
        raise RuntimeError(f"the simulator did not start: {line!r}")
    return SimulatorProcess(process, line.rsplit(" ", 1)[-1], seed_file)


def _first_line(process: subprocess.Popen[str]) -> str:
    """The child's first stdout line, or "" if it exits or stays silent past the start-up timeout."""
    result: list[str] = []

    def read() -> None:
        if process.stdout is not None:
            result.append(process.stdout.readline().strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT_S)
    return result[0] if result else ""
