"""The Graph API client: the only code in the platform that talks to Meta."""

from waba.graph.client import GraphClient, close_shared_clients
from waba.graph.errors import (
    GraphAccountRestricted,
    GraphAuthError,
    GraphError,
    GraphMediaTooLarge,
    GraphPairRateLimited,
    GraphPermanentError,
    GraphPermissionError,
    GraphThrottled,
    GraphTransientError,
    GraphUnavailable,
)

__all__ = [
    "GraphAccountRestricted",
    "GraphAuthError",
    "GraphClient",
    "GraphError",
    "GraphMediaTooLarge",
    "GraphPairRateLimited",
    "GraphPermanentError",
    "GraphPermissionError",
    "GraphThrottled",
    "GraphTransientError",
    "GraphUnavailable",
    "close_shared_clients",
]
