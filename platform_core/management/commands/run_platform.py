"""`make run`: migrate, seed the demo, start the web server, the workers, the job cluster and the Graph API simulator.

Against the simulator every process gets GRAPH_API_BASE_URL pointing at it and, unless the operator
set an app of their own, the platform's development Meta app (META_APP_ID, META_APP_SECRET,
META_EMBEDDED_SIGNUP_CONFIG_ID) that the simulator is seeded with, so "Connect with Facebook" works.

The processes run under platform_core.supervisor: one that dies is restarted after a growing
delay (the log says so), one that keeps dying stops everything. Ctrl-C (or SIGTERM) stops them
all within seconds, then the embedded PostgreSQL when this command started it and nothing else
uses it. Their routine INFO lines stay quiet (settings.RUN_LOG_LEVEL: LOG_LEVEL when set, WARNING
otherwise), and the banner comes once the web server answers, so it is the last thing on screen.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import NoReturn

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from platform_core import db
from platform_core.debug_exposure import debug_exposure_check
from platform_core.demo import (
    DemoCredentials,
    DemoWaba,
    demo_conversations_ensure,
    demo_platform_app_settings,
    demo_seed,
    demo_simulator_run_seed_write,
    demo_simulator_seed,
    demo_waba_ensure,
    demo_wizard_steps,
)
from platform_core.supervisor import Program, Supervisor

BASE_DIR = Path(settings.BASE_DIR)
# A process still running this long after SIGTERM is killed (granian kills a stuck worker of its
# own sooner, after WEB_WORKERS_KILL_TIMEOUT_S).
STOP_TIMEOUT_S = 5.0
WEB_WORKERS_KILL_TIMEOUT_S = 3
WEB_READY_TIMEOUT_S = 30.0
# The simulator starts with the other processes; on a busy machine it can take a while to answer.
SIMULATOR_READY_TIMEOUT_S = 60.0


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the whole platform locally (web, workers, django-q2 cluster, Graph API simulator) on the demo data."

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
        debug_exposure_check(host=host)
        logging.getLogger().setLevel(settings.RUN_LOG_LEVEL)
        self.stdout.write("Preparing the database...")
        call_command("migrate_platform", verbosity=0)
        call_command("install_schedules", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        credentials = demo_seed()

        # Also when started with SIGINT ignored (in the background): Ctrl-C and SIGTERM both stop.
        signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        simulator_url = f"http://127.0.0.1:{simulator_port}"
        env = self._environment(simulator_url=None if no_simulator else simulator_url)
        supervisor = Supervisor(
            self._programs(host=host, port=port, simulator_port=simulator_port, web_workers=web_workers,
                           simulator=not no_simulator),
            cwd=BASE_DIR,
            env=env,
            stop_timeout_s=STOP_TIMEOUT_S,
        )
        given_up: Program | None = None  # a process that keeps dying; the supervisor has logged why
        try:
            supervisor.start()
            demo_waba = None if no_simulator else self._demo_waba(simulator_url)
            given_up = self._wait_for_web_server(supervisor, host, port)
            if given_up is None and demo_waba is not None:
                self._demo_conversations(simulator_url)
            if given_up is None:
                self._print_banner(credentials, port, simulator_url if not no_simulator else None, demo_waba)
                given_up = supervisor.run()
        except KeyboardInterrupt:
            pass
        finally:
            self.stdout.write("Stopping...")
            supervisor.stop()
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self._stop_database()
            self.stdout.write("Stopped.")
        if given_up is not None:
            raise CommandError(f"The {given_up.name} could not be kept running; everything was stopped.")

    def _environment(self, *, simulator_url: str | None) -> dict[str, str]:
        """Every process's environment: this one's with the run's log level and, against the simulator,
        its URL and the platform's development Meta app unless the operator set one (that app also in
        this process's settings, for the simulator's seed and the banner)."""
        env = dict(os.environ)
        env["LOG_LEVEL"] = settings.RUN_LOG_LEVEL
        if simulator_url is not None:
            env["GRAPH_API_BASE_URL"] = simulator_url
            platform_app = demo_platform_app_settings()
            env.update(platform_app)
            for name, value in platform_app.items():
                setattr(settings, name, value)
        return env

    def _programs(
        self, *, host: str, port: int, simulator_port: int, web_workers: int, simulator: bool
    ) -> list[Program]:
        python = sys.executable
        programs = []
        if simulator:
            programs.append(
                Program(
                    "Graph API simulator",
                    [
                        python,
                        "manage.py",
                        "graph_simulator",
                        "--port",
                        str(simulator_port),
                        "--seed",
                        str(demo_simulator_run_seed_write()),
                        "--state-file",
                        str(db.DATA_DIR / "simulator-state.json"),
                        # Each app's webhooks on its own path: the demo tenant's app and the platform's.
                        "--webhook-url",
                        f"http://127.0.0.1:{port}/webhooks/whatsapp/{{app_id}}",
                    ],
                )
            )
        programs += [
            Program(
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
                    "--log-level",
                    settings.RUN_LOG_LEVEL.lower(),
                    "--workers-kill-timeout",
                    str(WEB_WORKERS_KILL_TIMEOUT_S),
                    "platform_core.wsgi:application",
                ],
            ),
            Program("job cluster", [python, "manage.py", "qcluster"]),
            Program("send worker", [python, "manage.py", "send_worker"]),
            Program("webhook worker", [python, "manage.py", "process_webhooks"]),
            Program("webhook delivery worker", [python, "manage.py", "integrations_deliver"]),
        ]
        return programs

    def _wait_for_web_server(self, supervisor: Supervisor, host: str, port: int) -> Program | None:
        """Supervise until the web server answers (any status) or WEB_READY_TIMEOUT_S has passed;
        returns a process that keeps dying meanwhile."""
        address = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
        url = f"http://[{address}]:{port}/" if ":" in address else f"http://{address}:{port}/"
        deadline = time.monotonic() + WEB_READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if (given_up := supervisor.poll()) is not None:
                return given_up
            try:
                httpx.get(url, timeout=1)
                return None
            except httpx.TransportError:
                time.sleep(0.2)
        self.stderr.write(f"The web server did not answer at {url} within {WEB_READY_TIMEOUT_S:g} s.")
        return None

    def _stop_database(self) -> None:
        if settings.USES_EMBEDDED_DATABASE and db.started_here:
            connections.close_all()
            self.stdout.write(db.embedded_stop_unless_in_use())

    def _demo_waba(self, simulator_url: str) -> DemoWaba | None:
        """Set up the demo WABA through the wizard against the simulator; a failure is reported, not fatal."""
        deadline = time.monotonic() + SIMULATOR_READY_TIMEOUT_S
        while True:
            try:
                httpx.get(f"{simulator_url}/_sim/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    self.stderr.write(
                        f"The Graph API simulator did not answer within {SIMULATOR_READY_TIMEOUT_S:g} s; "
                        "the demo WABA was not set up (it is set up on the next start)."
                    )
                    return None
                time.sleep(0.2)
        settings.GRAPH_API_BASE_URL = simulator_url  # this process talks to the simulator like the others
        self.stdout.write("Setting up the demo WhatsApp Business Account through the setup wizard...")
        try:
            return demo_waba_ensure()
        except Exception as error:  # the platform is still useful without the demo WABA
            self.stderr.write(f"The demo WABA could not be set up: {type(error).__name__}: {error}")
            return None

    def _demo_conversations(self, simulator_url: str) -> None:
        """A few customers write to the demo number on first start (a failure is reported, not fatal)."""
        phone_number_id = demo_wizard_steps(demo_simulator_seed())["phone-number"]["phone_number_id"]
        try:
            if injected := demo_conversations_ensure(simulator_url=simulator_url, phone_number_id=phone_number_id):
                self.stdout.write(f"{injected} demo customer messages sent through the simulator's webhooks.")
        except httpx.HTTPError as error:
            self.stderr.write(f"The demo conversations could not be started: {type(error).__name__}: {error}")

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
            f"  Tenant console     {demo}/app/   user {credentials.tenant_admin_username!r}  "
            f"password {credentials.tenant_admin_password!r}",
            f"  Platform console   {public}/app/   user {credentials.platform_admin_username!r}  "
            f"password {credentials.platform_admin_password!r}",
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
            if settings.META_APP_ID and settings.META_APP_SECRET:
                lines.append(
                    f"  Embedded Signup    {demo}/app/setup/  \"Connect with Facebook\" on Meta app "
                    f"{settings.META_APP_ID} (the simulator plays Facebook's window)"
                )
        if demo_waba:
            templates = ", ".join(f"{name} {status}" for name, status in demo_waba.templates)
            lines += [
                f"  Demo WABA          {demo_waba.waba_id} ({demo_waba.status}"
                f"{', set up now' if demo_waba.set_up_now else ''})   {demo}/api/v1/accounts/{demo_waba.account_id}",
                f"  Demo templates     {templates}",
            ]
        lines += [
            f"  Logs               {settings.RUN_LOG_LEVEL} and above (LOG_LEVEL=INFO make run shows every "
            "process's routine lines; LOG_LEVELS=logger:LEVEL one logger's)",
            "",
            f"  Try it:  curl -H 'Authorization: Bearer {credentials.tenant_api_key}' {demo}/api/v1/me",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
