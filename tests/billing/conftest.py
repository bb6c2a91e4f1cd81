"""Billing fixtures: the console's logged-in clients (alpha, beta, the platform operator) and a
customer of alpha's number whose service window is open."""

import pytest

from tests.console.conftest import console_a, console_b, platform_console, staff, user_a, user_b
from tests.factories import ConversationFactory

__all__ = ["console_a", "console_b", "platform_console", "staff", "user_a", "user_b"]


@pytest.fixture
def open_window_a(tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        return ConversationFactory(phone_number=number_a, window_open=True)
