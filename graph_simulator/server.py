"""The simulator as a whole: request handling (faults, routing, logging) and how to start it.

`start_simulator()` runs it on a background thread for tests; `python -m graph_simulator` runs
it in the foreground. With a state file (`--state-file`, `state_file=`) it loads its accounts at
start and keeps the file up to date (see `persistence`); without one it forgets everything on stop.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Self

from graph_simulator.constants import VERSION_SEGMENT
from graph_simulator.endpoints import (
    accounts,
    business_profile,
    flows,
    media,
    messages,
    signup,
    templates,
    uploads,
)
from graph_simulator.endpoints.control import control_dispatch
from graph_simulator.errors import GraphError
from graph_simulator.faults import FaultBoard
from graph_simulator.persistence import StateSaver, state_file_read, state_restore
from graph_simulator.recorder import RequestLog, SendStats
from graph_simulator.router import Router
from graph_simulator.scheduler import Scheduler
from graph_simulator.state import SimulatorState
from graph_simulator.transport import HttpServer, Request, Response
from graph_simulator.webhooks import WebhookEvent, WebhookSender

logger = logging.getLogger("graph_simulator")

ROUTER = Router(
    routes={
        **accounts.ROUTES,
        **messages.ROUTES,
        **templates.ROUTES,
        **media.ROUTES,
        **flows.ROUTES,
        **uploads.ROUTES,
        **business_profile.ROUTES,
    },
    special={
        "debug_token": accounts.debug_token,
        "_media": media.media_download,
        "_flow_assets": flows.flow_asset_download,
        "oauth": signup.oauth_dispatch,
        "_signup": signup.signup_dialog,
    },
)


class Simulator:
    """Everything one simulated Meta holds; `handle` turns one HTTP request into one response."""

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        app_secret: str | None = None,
        public_url: str | None = None,
        webhook_workers: int = 4,
    ) -> None:
        self.state = SimulatorState(default_webhook_url=webhook_url, default_app_secret=app_secret)
        self.scheduler = Scheduler()
        self.webhooks = WebhookSender(self.scheduler, lambda: self.state.config, workers=webhook_workers)
        self.faults = FaultBoard()
        self.requests = RequestLog()
        self.send_stats = SendStats()
        self.public_url = public_url
        self.saver: StateSaver | None = None

    def state_file_use(self, path: Path) -> None:
        """Load the state file (if there is one yet), resume the template reviews it left pending
        (after the configured review delay), and keep the file up to date from now on.

        Raises StateFileError when the file cannot be read back.
        """
        document = state_file_read(path)
        if document is not None:
            state_restore(self.state, document)
            with self.state.lock:
                pending = [t.id for t in self.state.templates.values() if t.status == "PENDING"]
                delay = self.state.config.template_review_delay_s
            for template_id in pending:
                self.scheduler.call_later(delay, templates.template_review_finish, self, template_id)
        self.saver = StateSaver(self.state, path)

    def state_changed(self) -> None:
        """Something may have changed the state: the state file (if any) is written soon."""
        if self.saver is not None:
            self.saver.changed()

    def base_url(self, request: Request) -> str:
        """Where clients reach us: the configured public URL, else the Host they used."""
        if self.public_url:
            return self.public_url
        return f"http://{request.headers.get('host', '127.0.0.1')}"

    def emit(self, waba_id: str, field: str, value: dict[str, Any]) -> None:
        """Queue a webhook change about `waba_id` for every app that should receive it.

        A webhook follows a change, also one made on the scheduler thread (a template review).
        """
        self.state_changed()
        with self.state.lock:
            targets = self.state.webhook_targets(waba_id)
        self.webhooks.submit(targets, WebhookEvent(waba_id=waba_id, field=field, value=value))

    def reset(self) -> None:
        self.scheduler.clear()
        self.webhooks.reset()
        self.state.reset()
        self.faults.clear()
        self.requests.clear()
        self.send_stats.clear()
        self.state_changed()

    def close(self) -> None:
        self.scheduler.stop()
        self.webhooks.stop()
        if self.saver is not None:
            self.saver.stop()

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sim/"):
            response = control_dispatch(self, request)
            if request.method != "GET":
                self.state_changed()
            return response
        received_at, received_wall = time.monotonic(), time.time()
        segments = [segment for segment in request.path.split("/") if segment]
        if segments and VERSION_SEGMENT.match(segments[0]):
            segments = segments[1:]
        try:
            fault = self.faults.match(request.method, request.path)
            if fault is not None:
                if fault.latency_ms:
                    time.sleep(fault.latency_ms / 1000)
                if fault.raises:
                    raise fault.error()
            response = ROUTER.dispatch(self, request, segments)
        except GraphError as error:
            response = Response.json(error.body(), error.status)
        except Exception:  # answer like Meta's unknown error rather than drop the connection
            logger.exception("simulator failed on %s %s", request.method, request.path)
            unexpected = GraphError(1, "The simulator hit an unexpected error.", status=500)
            response = Response.json(unexpected.body(), unexpected.status)
        self.requests.record(request, response.status, received_at, received_wall)
        if request.method != "GET":
            self.state_changed()
        if self.state.config.verbose:
            logger.info("%s %s -> %s", request.method, request.path, response.status)
        return response


class SimulatorHandle:
    """A running simulator: `base_url`, `state` to seed and inspect directly, `stop()`."""

    def __init__(self, simulator: Simulator, http_server: HttpServer, thread: threading.Thread) -> None:
        self.simulator = simulator
        self.state = simulator.state
        self._http_server = http_server
        self._thread = thread
        host, self.port = http_server.server_address[:2]
        self.host = host if isinstance(host, str) else host.decode()
        self.base_url = f"http://{self.host}:{self.port}"

    def seed(self, document: dict[str, Any]) -> dict[str, Any]:
        summary = self.state.seed(document)
        self.simulator.state_changed()
        return summary

    def configure(self, **changes: Any) -> None:
        with self.state.lock:
            self.state.config.update(changes)

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        return self.simulator.requests.query(**filters)

    def webhooks(self, **filters: Any) -> list[dict[str, Any]]:
        return self.simulator.webhooks.recent(**filters)

    def stop(self) -> None:
        self._http_server.shutdown()
        self._http_server.close_connections()
        self._http_server.server_close()
        self._thread.join(timeout=5)
        self.simulator.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_simulator(
    port: int = 0,
    webhook_url: str | None = None,
    app_secret: str | None = None,
    *,
    host: str = "127.0.0.1",
    seed: dict[str, Any] | str | Path | None = None,
    config: dict[str, Any] | None = None,
    public_url: str | None = None,
    state_file: str | Path | None = None,
) -> SimulatorHandle:
    """Start a simulator on a background thread (port 0 = any free port) and return its handle.

    `seed` is a seed document or the path of a JSON file holding one; `config` sets
    `SimulatorConfig` fields (e.g. `{"template_review_delay_s": 0}`). `state_file` loads the
    state kept there, then the seed is applied over it (an upsert), and the file follows every
    change; without it nothing is written.
    """
    simulator = Simulator(webhook_url=webhook_url, app_secret=app_secret, public_url=public_url)
    try:
        if config:
            simulator.state.config.update(config)
        if state_file is not None:
            simulator.state_file_use(Path(state_file))
        if seed is not None:
            document = json.loads(Path(seed).read_text()) if isinstance(seed, (str, Path)) else seed
            simulator.state.seed(document)
            simulator.state_changed()
        http_server = HttpServer((host, port), simulator.handle)
    except BaseException:
        simulator.close()
        raise
    thread = threading.Thread(
        target=http_server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"graph-sim-{http_server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return SimulatorHandle(simulator, http_server, thread)
