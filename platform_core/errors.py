"""The base of every domain error: a stable machine-readable code, an HTTP status, a human message.

Services raise these; the API layer turns them into
`{"error": {"code", "message", "details"}}` in one handler (platform_core.api).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code: str = "error"
    status: int = 400

    def __init__(
        self, message: str, *, details: Any = None, code: str | None = None, status: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
