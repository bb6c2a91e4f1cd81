"""Supervision of the processes `make run` starts: restart one that dies, stop them all on request.

- Each program runs as the leader of its own process group (a new session): a terminal's Ctrl-C
  reaches only the supervisor, and a program's own children (a web server's workers, the job
  cluster's processes) go with it when the group is killed.
- A program that exits while supervised is restarted after a growing delay (the backoff ceiling:
  `restart_base_s`, doubling, at most `restart_max_s`), and the log says so. One that has died
  `max_deaths` times within `death_window_s` is given up on: `poll` returns it and the caller stops
  everything. So is one that exits with an error within `startup_s` of its first start: it never
  came up (a port in use, a bad setting), and restarting it would only repeat its error. A program
  killed by a signal (the OOM killer, `kill -9`) is always restarted.
- `stop` sends one SIGTERM to each program's leader, never to its whole group: each program stops
  its own children (a granian worker that gets a signal sent to its whole group besides the one
  from its parent can hang, and the web server with it). A program still running after `stop_timeout_s` is
  killed with its group; so is what a program leaves behind in its group.
- Nothing here touches the signal handlers of the calling process except `stop`, which, in the
  main thread and for its duration only, turns a further SIGINT or SIGTERM into "kill the rest now".
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from platform_core.backoff import backoff_ceiling

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Program:
    name: str
    command: Sequence[str]


@dataclass
class _Child:
    program: Program
    process: subprocess.Popen[bytes] | None = None
    deaths: deque[float] = field(default_factory=deque)  # monotonic times, the last death_window_s only
    restarts: int = 0
    restart_at: float | None = None
    first_started_at: float | None = None


def exit_description(code: int) -> str:
    """`1`, or `-9 (SIGKILL)` for a process ended by a signal."""
    if code >= 0:
        return str(code)
    try:
        return f"{code} ({signal.Signals(-code).name})"
    except ValueError:
        return str(code)


class Supervisor:
    def __init__(
        self,
        programs: Sequence[Program],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        restart_base_s: float = 2.0,
        restart_max_s: float = 30.0,
        max_deaths: int = 5,
        death_window_s: float = 120.0,
        stop_timeout_s: float = 5.0,
        startup_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.restart_base_s = restart_base_s
        self.restart_max_s = restart_max_s
        self.max_deaths = max_deaths
        self.death_window_s = death_window_s
        self.stop_timeout_s = stop_timeout_s
        self.startup_s = startup_s
        self.clock = clock
        self._children = [_Child(program) for program in programs]
        self._kill_now = False

    def start(self) -> None:
        """Start every program."""
        for child in self._children:
            self._start(child)

    def pids(self) -> dict[str, int]:
        """The running programs' process ids, by name."""
        return {
            child.program.name: child.process.pid
            for child in self._children
            if child.process is not None and child.process.poll() is None
        }

    def poll(self) -> Program | None:
        """One supervision step: notice the programs that exited, restart those whose delay is over.

        Returns a program that keeps dying (the caller should stop everything), else None."""
        now = self.clock()
        for child in self._children:
            if child.process is not None and (code := child.process.poll()) is not None:
                _kill_group(child.process.pid)  # what it left behind, before a new one starts
                child.process = None
                child.deaths.append(now)
                while child.deaths and child.deaths[0] < now - self.death_window_s:
                    child.deaths.popleft()
                if code > 0 and child.restarts == 0 and now - (child.first_started_at or now) < self.startup_s:
                    logger.error(
                        "%s exited with code %s right after it started; stopping everything. "
                        "Scroll up for its error message.",
                        child.program.name, exit_description(code),
                    )
                    return child.program
                if len(child.deaths) >= self.max_deaths:
                    logger.error(
                        "%s exited with code %s, its %s exit within %g s; stopping everything. "
                        "Scroll up for its error message.",
                        child.program.name, exit_description(code), _ordinal(len(child.deaths)),
                        self.death_window_s,
                    )
                    return child.program
                delay = backoff_ceiling(
                    retry=len(child.deaths) - 1, base_s=self.restart_base_s, max_s=self.restart_max_s
                )
                child.restarts += 1
                child.restart_at = now + delay
                logger.warning(
                    "%s exited with code %s; restarting in %g s (restart %s)",
                    child.program.name, exit_description(code), delay, child.restarts,
                )
            if child.process is None and child.restart_at is not None and now >= child.restart_at:
                child.restart_at = None
                self._start(child)
        return None

    def run(self, *, poll_interval_s: float = 0.2) -> Program | None:
        """Supervise until a program keeps dying (returned) or KeyboardInterrupt, which propagates."""
        while True:
            given_up = self.poll()
            if given_up is not None:
                return given_up
            time.sleep(poll_interval_s)

    def stop(self) -> None:
        """SIGTERM to each program's leader; kill what is still running after stop_timeout_s (or
        at once on a further SIGINT/SIGTERM); kill what any program left behind in its group."""
        restore = self._escalate_on_signals()
        try:
            running = [child for child in self._children if child.process is not None]
            for child in self._children:
                child.restart_at = None
            for child in running:
                assert child.process is not None
                try:
                    child.process.terminate()
                except ProcessLookupError:
                    pass
            deadline = self.clock() + self.stop_timeout_s
            while running:
                for child in list(running):
                    assert child.process is not None
                    if (code := child.process.poll()) is not None:
                        logger.info("%s stopped (exit code %s)", child.program.name, exit_description(code))
                        running.remove(child)
                if running and (self._kill_now or self.clock() >= deadline):
                    for child in running:
                        assert child.process is not None
                        if self._kill_now:
                            logger.warning(
                                "%s: killing it (a second Ctrl-C came before it stopped).", child.program.name
                            )
                        else:
                            logger.warning(
                                "%s did not stop within %g s; killing it.", child.program.name, self.stop_timeout_s
                            )
                        _kill_group(child.process.pid)
                        child.process.wait()
                    running = []
                if running:
                    time.sleep(0.05)
            for child in self._children:
                if child.process is not None:
                    _kill_group(child.process.pid)
                    child.process = None
        finally:
            restore()

    def _start(self, child: _Child) -> None:
        command = list(child.program.command)
        logger.info("Starting %s: %s", child.program.name, " ".join(command))
        child.process = subprocess.Popen(command, cwd=self.cwd, env=self.env, start_new_session=True)
        if child.first_started_at is None:
            child.first_started_at = self.clock()

    def _escalate_on_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        self._kill_now = False

        def kill_now(signum: int, frame: FrameType | None) -> None:
            self._kill_now = True  # a plain attribute: safe whatever the main thread was doing

        previous: dict[int, Any] = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, kill_now)

        def restore() -> None:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

        return restore


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
