"""A local stand-in for Meta's Graph API (WhatsApp Cloud API): a real HTTP server and webhook sender.

An outside system: it imports nothing from the platform (no Django, no other apps). Tests embed
it with `start_simulator()` (a thread) or `spawn_simulator()` (a child process);
`python -m graph_simulator` (or `manage.py graph_simulator`) runs it in the foreground.
See README.md beside this file for endpoints, the seed shape and the control API.
"""

from graph_simulator.cli import add_arguments, main, serve
from graph_simulator.process import SimulatorProcess, spawn_simulator
from graph_simulator.server import Simulator, SimulatorHandle, start_simulator

__all__ = [
    "Simulator",
    "SimulatorHandle",
    "SimulatorProcess",
    "add_arguments",
    "main",
    "serve",
    "spawn_simulator",
    "start_simulator",
]
