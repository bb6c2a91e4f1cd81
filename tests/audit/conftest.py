"""Audit fixtures: the console clients of each tenant, and an endpoint of alpha's made without an actor."""

from __future__ import annotations

import pytest

from integrations.services import endpoint_create
from tests.console.conftest import console_a, console_b, user_a, user_b  # noqa: F401  (fixtures)


@pytest.fixture
def allow_private(settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = True


@pytest.fixture
def alpha_endpoint(tenant_a, in_tenant, allow_private):
    with in_tenant(tenant_a):
        endpoint, _ = endpoint_create(
            url="http://127.0.0.1:9/alpha", event_types=["order.created"], description="Alpha ERP"
        )
        return endpoint
