"""Fixtures of the send tests: a sending number in alpha (and one in beta, the outsider)."""

from __future__ import annotations

import pytest

from tests.sending.factories import ConversationFactory, TemplateFactory


@pytest.fixture
def fast_retries(settings):
    """Retries and reconciliation on a test's time scale."""
    settings.SEND_BACKOFF_BASE_S = 0.05
    settings.SEND_BACKOFF_MAX_S = 0.2
    settings.SEND_RECONCILE_GRACE_S = 0.5
    settings.SEND_SWEEP_INTERVAL_S = 0.2
    settings.GRAPH_API_TIMEOUT_S = 1
    return settings


@pytest.fixture
def template_a(tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        return TemplateFactory(account=number_a.account)


@pytest.fixture
def open_window_a(tenant_a, in_tenant, number_a):
    """A customer who wrote to alpha's number an hour ago: free-form messages are allowed."""
    with in_tenant(tenant_a):
        return ConversationFactory(phone_number=number_a)
