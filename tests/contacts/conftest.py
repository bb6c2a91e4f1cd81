"""Contacts tests: webhooks reach alpha's number through the webhook suite's fixtures."""

from tests.console.conftest import console_a, console_b, user_a, user_b  # noqa: F401, E402
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
