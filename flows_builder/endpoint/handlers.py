"""Per-flow handlers of data-exchange requests (INIT, data_exchange, BACK), registered by decorator.

```python
@flow_endpoint_handler("appointment_booking")
def appointment_booking(request: FlowEndpointRequest) -> dict:
    if request.action == "INIT":
        return {"screen": "PICK_DATE", "data": {"dates": free_dates()}}
    ...
```

A handler returns the response JSON Meta expects (`{"screen", "data"}`, or the final
`{"screen": "SUCCESS", "data": {"extension_message_response": {...}}}`) and may raise
`FlowTokenRejected` to end the flow (HTTP 427).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flows_builder.models import FlowToken, WhatsAppFlow
from flows_builder.registry import Registry
from messaging.models import Contact


@dataclass(frozen=True)
class FlowEndpointRequest:
    """One decrypted request. `data` is customer input: keep it out of logs (it is out of the repr)."""

    action: str
    screen: str | None
    flow: WhatsAppFlow
    token: FlowToken
    contact: Contact
    version: str | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False)


class FlowTokenRejected(Exception):
    """Raised by a handler when the session behind the token must end: answered with HTTP 427."""


FlowEndpointHandler = Callable[[FlowEndpointRequest], dict[str, Any]]

FLOW_ENDPOINT_HANDLERS: Registry[FlowEndpointHandler] = Registry("data-exchange handler")


def flow_endpoint_handler(flow_name: str) -> Callable[[FlowEndpointHandler], FlowEndpointHandler]:
    """Register the data-exchange handler of the flow named `flow_name`."""
    return FLOW_ENDPOINT_HANDLERS.register(flow_name)
