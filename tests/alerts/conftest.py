"""Alerts fixtures: the webhook path's Meta app and routed numbers, a receiving endpoint, the team."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from integrations.services import endpoint_create
from team.models import Membership
from team.roles import Role
from tests.console.conftest import PASSWORD, console_a, console_b, user_a, user_b  # noqa: F401  (fixtures)
from tests.integrations.conftest import allow_private, receiver  # noqa: F401  (fixtures)
from tests.webhooks.conftest import (  # noqa: F401  (fixtures)
    _fresh_app_cache,
    meta_app,
    number_a,
    number_b,
    public_client,
    webhook,
)


def member_make(username: str, role: str, email: str) -> User:
    user = User.objects.create_user(username, email=email, password=PASSWORD)
    Membership.objects.filter(user=user).update(role=role)
    return user


@pytest.fixture
def team_a(tenant_a, in_tenant, request):
    """Alpha's owner (ana), an admin, a viewer, and an inactive admin: only the first two are mailed."""
    request.getfixturevalue("user_a")
    with in_tenant(tenant_a):
        member_make("adam", Role.ADMIN, "adam@alpha.test")
        member_make("vera", Role.VIEWER, "vera@alpha.test")
        gone = member_make("gone", Role.ADMIN, "gone@alpha.test")
        User.objects.filter(pk=gone.pk).update(is_active=False)
    return ["adam@alpha.test", "ana@alpha.test"]


@pytest.fixture
def alert_endpoint(tenant_a, in_tenant, request):
    """An endpoint of alpha's subscribed to the alert events, posting to the test's `receiver`."""
    url = request.getfixturevalue("receiver").url
    with in_tenant(tenant_a):
        endpoint, _ = endpoint_create(url=url, event_types=["alert.opened", "alert.resolved"])
    return endpoint
