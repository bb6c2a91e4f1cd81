"""What every `/_sim/...` handler shares: its error and how it reads a JSON body."""

from __future__ import annotations

import json
from typing import Any

from graph_simulator.transport import Request


class ControlError(Exception):
    """Answered as `{"error": {"message"}}` with `status` (400 unless said otherwise)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def json_body(request: Request) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except ValueError:
        raise ControlError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data


def required(data: dict[str, Any], key: str) -> Any:
    if data.get(key) in (None, ""):
        raise ControlError(f"'{key}' is required")
    return data[key]
