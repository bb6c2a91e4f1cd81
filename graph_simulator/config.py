"""Behaviour switches a test can flip at run time through `POST /_sim/config`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

STATUS_NAMES = ("sent", "delivered", "read")
WINDOW_ERROR_MODES = ("sync", "webhook")


@dataclass
class SimulatorConfig:
    # Status webhooks after each accepted send: which, and how far apart.
    status_webhooks: bool = True
    status_delay_ms: float = 50.0
    status_sequence: list[str] = field(default_factory=lambda: list(STATUS_NAMES))
    # Recipients whose messages come back `failed` with 131026.
    undeliverable: set[str] = field(default_factory=set)
    # Template review: seconds until the APPROVED / REJECTED webhook (0 = decided in the request).
    template_review_delay_s: float = 2.0
    # Template names to reject even when well formed: name -> reason (e.g. "SCAM").
    template_rejections: dict[str, str] = field(default_factory=dict)
    # The platform enforces the 24-hour window itself, so the simulator's check is opt-in.
    enforce_window: bool = False
    # "sync": the send answers 131047; "webhook": accepted, then a `failed` status (Meta's way).
    window_error: str = "sync"
    # Answer 130429 past the phone number's messages-per-second (80 STANDARD, 1000 HIGH).
    enforce_throughput: bool = False
    # Meta sends nothing for a WABA until an app subscribed; off by default for convenience.
    require_subscription: bool = False
    # Outbound webhook delivery.
    webhook_retry_delays_s: list[float] = field(default_factory=lambda: [0.5, 2.0, 8.0])
    webhook_batch_max: int = 50
    webhook_timeout_s: float = 10.0
    verbose: bool = False
    # How long an Embedded Signup code may wait for its exchange (Meta: about 30 seconds).
    signup_code_ttl_s: float = 30.0

    def update(self, changes: dict[str, Any]) -> None:
        """Apply known keys; raise ValueError on an unknown key or a bad value, changing nothing."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        staged = {key: _coerce(key, value) for key, value in changes.items()}
        for key, value in staged.items():
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["undeliverable"] = sorted(self.undeliverable)
        return data


def _coerce(key: str, value: Any) -> Any:
    bools = {"status_webhooks", "enforce_window", "enforce_throughput", "require_subscription", "verbose"}
    if key in bools:
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        return value
    if key in {"status_delay_ms", "template_review_delay_s", "webhook_timeout_s", "signup_code_ttl_s"}:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{key} must be a number >= 0")
        return float(value)
    if key == "webhook_batch_max":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError("webhook_batch_max must be an integer >= 1")
        return value
    if key == "status_sequence":
        if not isinstance(value, list) or any(item not in STATUS_NAMES for item in value):
            raise ValueError(f"status_sequence must be a list drawn from {STATUS_NAMES}")
        return list(value)
    if key == "undeliverable":
        if not isinstance(value, list):
            raise ValueError("undeliverable must be a list of phone numbers")
        return {str(item).lstrip("+") for item in value}
    if key == "template_rejections":
        if not isinstance(value, dict):
            raise ValueError("template_rejections must map template names to reasons")
        return {str(name): str(reason) for name, reason in value.items()}
    if key == "window_error":
        if value not in WINDOW_ERROR_MODES:
            raise ValueError(f"window_error must be one of {WINDOW_ERROR_MODES}")
        return value
    if key == "webhook_retry_delays_s":
        if not isinstance(value, list) or any(
            isinstance(item, bool) or not isinstance(item, (int, float)) or item < 0 for item in value
        ):
            raise ValueError("webhook_retry_delays_s must be a list of numbers >= 0")
        return [float(item) for item in value]
    return value
