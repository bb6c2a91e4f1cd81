"""The simulator's memory on disk (`--state-file PATH`): accounts survive a restart.

Kept: apps, WABAs with their app subscriptions, phone numbers (PIN and encryption key included),
tokens, templates, flows, customer-service windows and open conversations: everything an account
set up against the simulator needs to stay healthy. Not kept: media bytes, the behaviour config
(it comes from the command line and the seed at each start), the request log, faults and the
throughput counters.

Writes are atomic: a temporary file in the same folder, flushed to disk, then renamed over the
old one, so a crash leaves the previous file whole. `StateSaver` writes from a background thread
at most every `interval_s` seconds after a change, and once more when the simulator stops.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from graph_simulator.models import App, Flow, PhoneNumber, Subscription, Template, Token, Waba

if TYPE_CHECKING:
    from graph_simulator.state import SimulatorState

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
Model = TypeVar("Model")


class StateFileError(Exception):
    """The state file exists but cannot be read back; the message says which file and why."""


def state_document(state: SimulatorState) -> dict[str, Any]:
    """What the state file holds, as JSON-ready data."""
    with state.lock:
        return {
            "format_version": FORMAT_VERSION,
            "apps": [asdict(app) for app in state.apps.values()],
            "wabas": [
                {**asdict(waba), "subscriptions": [asdict(s) for s in waba.subscriptions.values()]}
                for waba in state.wabas.values()
            ],
            "phone_numbers": [asdict(phone) for phone in state.phones.values()],
            "tokens": [{**asdict(token), "waba_ids": sorted(token.waba_ids)} for token in state.tokens.values()],
            "templates": [asdict(template) for template in state.templates.values()],
            "flows": [asdict(flow) for flow in state.flows.values()],
            "windows": [[phone_id, wa_id, at] for (phone_id, wa_id), at in state.windows.items()],
            "conversations": [
                [phone_id, wa_id, category, conversation_id, expires_at]
                for (phone_id, wa_id, category), (conversation_id, expires_at) in state.conversations.items()
            ],
        }


def state_restore(state: SimulatorState, document: dict[str, Any]) -> None:
    """Replace the objects of `state` with those of a `state_document` (config is left alone)."""
    if document.get("format_version") != FORMAT_VERSION:
        raise StateFileError(f"unknown format_version {document.get('format_version')!r}")
    try:
        apps = [_build(App, item) for item in document.get("apps", [])]
        wabas = []
        for item in document.get("wabas", []):
            subscriptions = [_build(Subscription, s) for s in item.get("subscriptions", [])]
            waba = _build(Waba, {**item, "subscriptions": {}})
            waba.subscriptions = {s.app_id: s for s in subscriptions}
            wabas.append(waba)
        phones = [_build(PhoneNumber, item) for item in document.get("phone_numbers", [])]
        tokens = [_build(Token, {**item, "waba_ids": set(item.get("waba_ids", []))}) for item in document.get("tokens", [])]
        templates = [_build(Template, item) for item in document.get("templates", [])]
        flows = [_build(Flow, item) for item in document.get("flows", [])]
        windows = {(str(p), str(w)): float(at) for p, w, at in document.get("windows", [])}
        conversations = {
            (str(p), str(w), str(c)): (str(conversation_id), int(expires_at))
            for p, w, c, conversation_id, expires_at in document.get("conversations", [])
        }
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise StateFileError(f"malformed content: {error}") from None
    with state.lock:
        state.apps = {app.app_id: app for app in apps}
        state.wabas = {waba.id: waba for waba in wabas}
        state.phones = {phone.id: phone for phone in phones}
        state.tokens = {token.token: token for token in tokens}
        state.templates, state.template_index = {}, {}
        for template in templates:
            state.template_add(template)
        state.flows = {flow.id: flow for flow in flows}
        state.windows = windows
        state.conversations = conversations


def _build(cls: type[Model], item: dict[str, Any]) -> Model:
    """A model from its `asdict` form; keys the model does not know are ignored."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{key: value for key, value in item.items() if key in known})


def state_file_read(path: Path) -> dict[str, Any] | None:
    """The document in `path`, or None when there is no such file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StateFileError(f"{path}: {error.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise StateFileError(f"{path} is not valid JSON ({error}); move it away to start empty") from None
    if not isinstance(document, dict):
        raise StateFileError(f"{path} does not hold a JSON object; move it away to start empty")
    return document


def state_file_write(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (temporary file in the same folder, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class StateSaver:
    """Writes the state to its file after changes, from one background thread.

    `changed()` is cheap (it sets an event): call it after anything that may have changed the
    state. The thread then waits `interval_s`, so a burst of changes costs one write, and skips
    the write when the document is what the file already holds.
    """

    def __init__(self, state: SimulatorState, path: Path, *, interval_s: float = 0.5) -> None:
        self.state = state
        self.path = path
        self.interval_s = interval_s
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._written: str | None = None
        self._thread = threading.Thread(target=self._run, name="graph-sim-state-saver", daemon=True)
        self._thread.start()

    def changed(self) -> None:
        self._changed.set()

    def save(self) -> bool:
        """Write the state now if it differs from the file; True when it wrote."""
        text = json.dumps(state_document(self.state), sort_keys=True, indent=1)
        with self._write_lock:
            if text == self._written:
                return False
            state_file_write(self.path, text)
            self._written = text
        return True

    def stop(self) -> None:
        """Stop the thread, then write what is still pending."""
        self._stopping.set()
        self._changed.set()
        self._thread.join(timeout=5)
        self._save_logged()

    def _run(self) -> None:
        while True:
            self._changed.wait()
            # Wait out the interval first, so that a burst of changes costs one write.
            if self._stopping.wait(self.interval_s):
                return
            self._changed.clear()
            self._save_logged()

    def _save_logged(self) -> None:
        try:
            self.save()
        except OSError:
            logger.exception("could not write the simulator state to %s", self.path)
