"""The one place the flows app gets a Graph API client for an account."""

from __future__ import annotations

from platform_core.crypto import Secret
from waba.graph import GraphClient
from waba.models import WhatsAppAccount
from waba.services.credentials import graph_client_for


def account_graph_client(*, account: WhatsAppAccount) -> GraphClient:
    """A client holding the account's token (the WABA app's factory, which refuses an account without one)."""
    return graph_client_for(account)


def revealed(value: Secret | str | None) -> str:
    """The clear value of an encrypted field: a `Secret` once loaded, a str right after assignment."""
    if value is None:
        return ""
    return value.reveal() if isinstance(value, Secret) else str(value)
