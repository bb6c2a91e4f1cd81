"""Conversations are fed through the real webhook endpoint: the webhook suite's fixtures."""

from tests.webhooks.conftest import (  # noqa: F401
    _fresh_app_cache,
    account_events,
    committed_number,
    meta_app,
    number_a,
    number_b,
    public_client,
    webhook,
)
