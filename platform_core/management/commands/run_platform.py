"""`make run`: migrate, seed the demo, start the web server, the job cluster and the Graph API simulator.

Every child process is started here and stopped here: Ctrl-C (or SIGTERM) stops
them all, and the embedded PostgreSQL too when this command started it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import NoReturn

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from platform_core import db
from platform_core.demo import (
    DEMO_SIMULATOR_SEED,
    DemoCredentials,
    DemoWaba,
    demo_seed,
    demo_simulator_seed,
    demo_waba_ensure,
)

BASE_DIR = Path(settings.BASE_DIR)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the whole platform locally (web, django-q2 cluster, Graph API simulator) on the demo data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.RUN_HOST)
        parser.add_argument("--port", type=int, default=settings.PLATFORM_PORT)
        parser.add_argument("--simulator-port", type=int, default=settings.SIMULATOR_PORT)
        parser.add_argument("--web-workers", type=int, default=settings.WEB_WORKERS)
        parser.add_argument("--no-simulator", action="store_true", help="Use GRAPH_API_BASE_URL as it is.")

    def handle(
        self,
        *args,
        host: str,
        port: int,
        simulator_port: int,
        web_workers: int,
        no_simulator: bool,
        **options,
    ) -> None:
        self.stdout.write("Preparing the database...")
        call_command("migrate_platform", verbosity=0)
        call_command("install_schedules", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        credentials = demo_seed()

        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        python = sys.executable
        env = dict(os.environ)
        simulator_url = f"http://127.0.0.1:{simulator_port}"
        if not no_simulator:
            env["GRAPH_API_BASE_URL"] = simulator_url
        processes: list[tuple[str, subprocess.Popen]] = []

        def start(name: str, command: list[str]) -> None:
            self.stdout.write(f"Starting {name}: {' '.join(command)}")
            # Own process group: Ctrl-C reaches only this command, which then stops each group whole
            # (a server's worker processes included).
            processes.append((name, subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True)))

        try:
            if not no_simulator:
                start(
                    "Graph API simulator",
                    [
                        python,
                        "manage.py",
                        "graph_simulator",
                        "--port",
                        str(simulator_port),
                        "--seed",
                        str(DEMO_SIMULATOR_SEED),
                        "--webhook-url",
                        f"http://127.0.0.1:{port}/webhooks/whatsapp/{demo_simulator_seed()['apps'][0]['app_id']}",
                    ],
                )
            start(
                "web server",
                [
                    python,
                    "-m",
                    "granian",
                    "--interface",
                    "wsgi",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--workers",
                    str(web_workers),
                    "--blocking-threads",
                    "4",
                    "--no-ws",
                    "platform_core.wsgi:application",
                ],
            )
            start("job cluster", [python, "manage.py", "qcluster"])
            start("send worker", [python, "manage.py", "send_worker"])
            start("webhook worker", [python, "manage.py", "process_webhooks"])
            demo_waba = None if no_simulator else self._demo_waba(simulator_url)
            time.sleep(0 if demo_waba else 2)
            self._print_banner(credentials, port, simulator_url if not no_simulator else None, demo_waba)
            self._wait(processes)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop(processes)

    def _demo_waba(self, simulator_url: str) -> DemoWaba | None:
        """Set up the demo WABA through the wizard against the simulator; a failure is reported, not fatal."""
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Graph call would bury the banner
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"{simulator_url}/_sim/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    self.stderr.write("The Graph API simulator did not answer; the demo WABA was not set up.")
                    return None
                time.sleep(0.2)
        settings.GRAPH_API_BASE_URL = simulator_url  # this process talks to the simulator like the others
        self.stdout.write("Setting up the demo WhatsApp Business Account through the setup wizard...")
        try:
            return demo_waba_ensure()
        except Exception as error:  # the platform is still useful without the demo WABA
            self.stderr.write(f"The demo WABA could not be set up: {type(error).__name__}: {error}")
            return None

    def _print_banner(
        self, credentials: DemoCredentials, port: int, simulator_url: str | None, demo_waba: DemoWaba | None = None
    ) -> None:
        domain = settings.PLATFORM_DOMAIN
        public = f"http://{domain}:{port}"
        demo = f"http://{credentials.tenant_slug}.{domain}:{port}"
        lines = [
            "",
            "The platform is running. Ctrl-C stops everything.",
            "",
            f"  Platform admin     {public}/admin/   user {credentials.platform_admin_username!r}  "
            f"password {credentials.platform_admin_password!r}",
            f"  Platform API       {public}/api/platform/docs   key {credentials.platform_api_key}",
            f"  Demo tenant admin  {demo}/admin/   user {credentials.tenant_admin_username!r}  "
            f"password {credentials.tenant_admin_password!r}",
            f"  Demo tenant API    {demo}/api/v1/docs   key {credentials.tenant_api_key}",
            f"  Webhook endpoint   {public}/webhooks/whatsapp/<app id>",
        ]
        if simulator_url:
            lines.append(f"  Graph simulator    {simulator_url}  (GRAPH_API_BASE_URL for every process)")
        if demo_waba:
            templates = ", ".join(f"{name} {status}" for name, status in demo_waba.templates)
            lines += [
                f"  Demo WABA          {demo_waba.waba_id} ({demo_waba.status}"
                f"{', set up now' if demo_waba.set_up_now else ''})   {demo}/api/v1/accounts/{demo_waba.account_id}",
                f"  Demo templates     {templates}",
            ]
        lines += [
            "",
            f"  Try it:  curl -H 'Authorization: Bearer {credentials.tenant_api_key}' {demo}/api/v1/me",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    def _wait(self, processes: list[tuple[str, subprocess.Popen]]) -> None:
        while True:
            for name, process in processes:
                code = process.poll()
                if code is not None:
                    self.stderr.write(
                        f"{name} exited with code {code}; stopping everything. "
                        "Scroll up for its error message."
                    )
                    return
            time.sleep(0.5)

    def _stop(self, processes: list[tuple[str, subprocess.Popen]]) -> None:
        # A second Ctrl-C (or SIGTERM) must not abort the shutdown half-way and orphan the children.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self.stdout.write("Stopping...")
        for _, process in processes:
            _signal_group(process, signal.SIGINT)  # what Ctrl-C in a terminal would send
        deadline = time.monotonic() + 15
        for name, process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it.")
                _signal_group(process, signal.SIGKILL)
                process.wait()
        if settings.USES_EMBEDDED_DATABASE and db.started_here:
            from django.db import connections

            connections.close_all()
            db.embedded_stop()
            self.stdout.write("Stopped the embedded PostgreSQL.")
        self.stdout.write("Stopped.")
