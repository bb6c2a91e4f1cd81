"""The one place the flows app gets a Graph API client for an account."""

from __future__ import annotations

from flows_builder.errors import FlowAccountNotReady
from platform_core.crypto import Secret
from waba.graph import GraphClient
from waba.models import WhatsAppAccount


def account_graph_client(*, account: WhatsAppAccount) -> GraphClient:
    """A client holding the account's token; prefers the waba app's factory when it exists.

    `waba.services.credentials.graph_client_for` (issue 3) may add health bookkeeping; until it
    exists the client is built from the decrypted token here and nowhere else.
    """
    try:
        from waba.services.credentials import graph_client_for  # type: ignore[import-not-found]
    except ImportError:
        graph_client_for = None
    if graph_client_for is not None:
        return graph_client_for(account)
    if not account.access_token:
        raise FlowAccountNotReady(
            f"The WhatsApp account {account.pk} has no access token yet: finish its setup first."
        )
    return GraphClient(revealed(account.access_token))


def revealed(value: Secret | str | None) -> str:
    """The clear value of an encrypted field: a `Secret` once loaded, a str right after assignment."""
    if value is None:
        return ""
    return value.reveal() if isinstance(value, Secret) else str(value)
