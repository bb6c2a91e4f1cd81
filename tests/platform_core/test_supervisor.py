"""The supervisor behind `make run`, on tiny real processes: restarts, giving up, stopping.

Each test polls the supervisor until what it checks has happened; the limit only keeps a broken
supervisor from hanging the run, it is not a speed requirement.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from platform_core.supervisor import Program, Supervisor

pytestmark = pytest.mark.slow

PYTHON = sys.executable
# Appends its pid to the file named by its argument, then waits to be stopped.
SLEEPER = "import os, sys, time; open(sys.argv[1], 'a').write(f'{os.getpid()}\\n'); time.sleep(120)"


def sleeper(name: str, pid_file: Path) -> Program:
    return Program(name, [PYTHON, "-c", SLEEPER, str(pid_file)])


def pids_in(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def supervise_until(supervisor: Supervisor, condition, *, limit_s: float = 60.0) -> Program | None:
    """Poll until `condition()` holds or a program is given up on (returned)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        given_up = supervisor.poll()
        if given_up is not None:
            return given_up
        assert time.monotonic() < deadline, "the supervisor never got there"
        time.sleep(0.02)
    return None


def wait_for(condition, *, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


@pytest.fixture
def supervisors():
    """Supervisors made by a test, stopped at its end whatever happened."""
    made: list[Supervisor] = []

    def make(programs: list[Program], **options) -> Supervisor:
        options.setdefault("startup_s", 0)
        supervisor = Supervisor(programs, **options)
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        supervisor.stop()


def test_a_killed_program_is_restarted_and_the_log_says_so(tmp_path, caplog, supervisors):
    pid_file = tmp_path / "send.pids"
    # Killed by a signal, even right after its start: restarted (only an error exit there is fatal).
    supervisor = supervisors([sleeper("send worker", pid_file)], restart_base_s=0.1, startup_s=60)
    supervisor.start()
    wait_for(lambda: len(pids_in(pid_file)) == 1)
    first = pids_in(pid_file)[0]

    os.kill(first, signal.SIGKILL)
    with caplog.at_level(logging.INFO, logger="platform_core.supervisor"):
        assert supervise_until(supervisor, lambda: len(pids_in(pid_file)) == 2) is None

    second = pids_in(pid_file)[1]
    assert supervisor.pids() == {"send worker": second}
    assert running(second) and not running(first)
    assert "send worker exited with code -9 (SIGKILL); restarting in 0.1 s (restart 1)" in caplog.messages


def test_each_death_waits_longer_and_a_program_that_keeps_dying_is_given_up(tmp_path, caplog, supervisors):
    crashing = Program("webhook worker", [PYTHON, "-c", "raise SystemExit(3)"])
    web_pids = tmp_path / "web.pids"
    supervisor = supervisors(
        [crashing, sleeper("web server", web_pids)], restart_base_s=0.05, max_deaths=3, death_window_s=120
    )
    supervisor.start()

    with caplog.at_level(logging.INFO, logger="platform_core.supervisor"):
        given_up = supervise_until(supervisor, lambda: False)

    assert given_up == crashing
    assert [message for message in caplog.messages if "webhook worker exited" in message] == [
        "webhook worker exited with code 3; restarting in 0.05 s (restart 1)",
        "webhook worker exited with code 3; restarting in 0.1 s (restart 2)",
        "webhook worker exited with code 3, its 3rd exit within 120 s; stopping everything. "
        "Scroll up for its error message.",
    ]
    wait_for(lambda: len(pids_in(web_pids)) == 1)
    web = pids_in(web_pids)[0]

    supervisor.stop()

    assert not running(web)
    assert supervisor.pids() == {}


def test_a_program_that_exits_right_after_its_first_start_stops_everything_at_once(caplog, supervisors):
    broken = Program("web server", [PYTHON, "-c", "raise SystemExit('Address already in use')"])
    supervisor = supervisors([broken], startup_s=60)
    supervisor.start()

    with caplog.at_level(logging.INFO, logger="platform_core.supervisor"):
        given_up = supervise_until(supervisor, lambda: False)

    assert given_up == broken
    assert not any("restarting" in message for message in caplog.messages)
    assert "web server exited with code 1 right after it started; stopping everything. " \
        "Scroll up for its error message." in caplog.messages


# The leader forwards SIGTERM to its own child and waits for it; the child writes down who sent
# the first SIGTERM it got. A supervisor that signalled the whole group would be that sender.
CHILD = """
import signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
open(sys.argv[1], "w").write("ready")
info = signal.sigwaitinfo({signal.SIGTERM})
open(sys.argv[2], "w").write(str(info.si_pid))
"""
LEADER = """
import signal, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2], sys.argv[3]])
signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
raise SystemExit(child.wait())
"""


def test_stop_sends_one_sigterm_to_each_leader_which_stops_its_own_children(tmp_path, caplog, supervisors):
    ready, sender = tmp_path / "ready", tmp_path / "sender"
    supervisor = supervisors([Program("web server", [PYTHON, "-c", LEADER, CHILD, str(ready), str(sender)])])
    supervisor.start()
    leader = supervisor.pids()["web server"]
    wait_for(ready.exists)

    with caplog.at_level(logging.INFO, logger="platform_core.supervisor"):
        supervisor.stop()

    assert sender.read_text() == str(leader)  # the child heard from its parent, not from the supervisor
    assert "web server stopped (exit code 0)" in caplog.messages  # stopped, not killed
    assert not any("killing" in message for message in caplog.messages)


# Ignores SIGTERM, and so does the child it starts in its process group (SIG_IGN survives exec).
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(120)
"""


def test_a_program_that_ignores_sigterm_is_killed_with_its_group(tmp_path, caplog, supervisors):
    child_pid_file = tmp_path / "child"
    supervisor = supervisors([Program("job cluster", [PYTHON, "-c", STUBBORN, str(child_pid_file)])],
                             stop_timeout_s=0.5)
    supervisor.start()
    leader = supervisor.pids()["job cluster"]
    wait_for(lambda: pids_in(child_pid_file))  # exists once opened, holds the pid once written
    child = pids_in(child_pid_file)[0]

    with caplog.at_level(logging.INFO, logger="platform_core.supervisor"):
        supervisor.stop()

    assert "job cluster did not stop within 0.5 s; killing it." in caplog.messages
    wait_for(lambda: not running(child))  # reparented when its leader died: reaped by init, not by us
    assert not running(leader)


def test_what_a_dead_program_left_in_its_group_is_killed_before_it_restarts(tmp_path, supervisors):
    child_pid_file = tmp_path / "child"
    supervisor = supervisors([Program("job cluster", [PYTHON, "-c", STUBBORN, str(child_pid_file)])],
                             restart_base_s=0.05)
    supervisor.start()
    first_leader = supervisor.pids()["job cluster"]
    wait_for(lambda: pids_in(child_pid_file))
    first_child = pids_in(child_pid_file)[0]
    child_pid_file.unlink()

    os.kill(first_leader, signal.SIGKILL)
    supervise_until(supervisor, child_pid_file.exists)

    wait_for(lambda: not running(first_child))
    assert supervisor.pids()["job cluster"] != first_leader
