"""Injected faults: latency and Meta errors on matching Graph requests, for reliability tests.

A rule matches on path substring and method; it can fire a number of `times` (then it is gone)
or with a `probability`. The first matching rule wins, in the order they were added.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

from graph_simulator import ids
from graph_simulator.errors import GraphError, fault_error


@dataclass
class FaultRule:
    id: str
    path_contains: str | None = None
    method: str | None = None
    latency_ms: float = 0.0
    status: int | None = None
    error_code: int | None = None
    error_subcode: int | None = None
    message: str | None = None
    times: int | None = None
    probability: float | None = None
    fired: int = 0

    @property
    def raises(self) -> bool:
        return self.status is not None or self.error_code is not None

    def error(self) -> GraphError:
        return fault_error(self.error_code, self.status, self.error_subcode, self.message)


def fault_rule_parse(data: dict[str, Any]) -> FaultRule:
    """Build a rule from `POST /_sim/faults` JSON; TypeError / ValueError name the bad field."""
    if not isinstance(data, dict):
        raise TypeError("a fault must be a JSON object")
    known = {
        "path_contains",
        "method",
        "latency_ms",
        "status",
        "error_code",
        "error_subcode",
        "message",
        "times",
        "probability",
    }
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown fault keys: {sorted(unknown)}")
    rule = FaultRule(id=ids.new_graph_id())
    for key in ("path_contains", "message"):
        if data.get(key) is not None:
            setattr(rule, key, str(data[key]))
    if data.get("method"):
        rule.method = str(data["method"]).upper()
    for key in ("status", "error_code", "error_subcode", "times"):
        if data.get(key) is not None:
            if isinstance(data[key], bool) or not isinstance(data[key], int):
                raise ValueError(f"{key} must be an integer")
            setattr(rule, key, data[key])
    if data.get("latency_ms") is not None:
        rule.latency_ms = _number(data["latency_ms"], "latency_ms", 0, 120_000)
    if data.get("probability") is not None:
        rule.probability = _number(data["probability"], "probability", 0, 1)
    if rule.times is not None and rule.times < 1:
        raise ValueError("times must be at least 1")
    if not rule.raises and not rule.latency_ms:
        raise ValueError("a fault needs latency_ms, status or error_code")
    return rule


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number between {low} and {high}")
    return float(value)


class FaultBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(rule) for rule in self._rules]

    def match(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, consuming one of its `times`."""
        if not self._rules:  # the common case: no lock on the hot path
            return None
        with self._lock:
            for rule in self._rules:
                if rule.method and rule.method != method:
                    continue
                if rule.path_contains and rule.path_contains not in path:
                    continue
                if rule.probability is not None and random.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.times is not None and rule.fired >= rule.times:
                    self._rules.remove(rule)
                return rule
        return None
