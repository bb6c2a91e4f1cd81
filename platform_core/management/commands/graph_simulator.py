"""`manage.py graph_simulator`: runs the Graph API simulator in the foreground.

A thin wrapper: the simulator is an outside system, so this only hands the options over.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

import graph_simulator as simulator


class Command(BaseCommand):
    help = "Run the local WhatsApp Cloud API (Graph API) simulator in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        simulator.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        sys.exit(simulator.serve(options))
