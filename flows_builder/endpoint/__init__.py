"""The Flows data-exchange endpoint: business key pairs, per-flow handlers, the encrypted exchange.

Meta calls `POST /flows/endpoint/<tenant slug>/<phone_number_id>` on the public host (see
`views.py` for why there). Requests are signed with the app secret (`X-Hub-Signature-256`) and
encrypted with the phone number's business public key; answers are encrypted with the request's
AES key and the flipped IV (flows_builder.crypto).
"""

from flows_builder.endpoint.exchange import EndpointReply, flow_endpoint_exchange
from flows_builder.endpoint.handlers import (
    FLOW_ENDPOINT_HANDLERS,
    FlowEndpointRequest,
    FlowTokenRejected,
    flow_endpoint_handler,
)
from flows_builder.endpoint.keys import endpoint_private_key, endpoint_uri_for, flow_endpoint_key_ensure

__all__ = [
    "FLOW_ENDPOINT_HANDLERS",
    "EndpointReply",
    "FlowEndpointRequest",
    "FlowTokenRejected",
    "endpoint_private_key",
    "endpoint_uri_for",
    "flow_endpoint_exchange",
    "flow_endpoint_handler",
    "flow_endpoint_key_ensure",
]
