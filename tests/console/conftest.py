"""Console fixtures: a user in each tenant's schema and a browser-like client logged in on its host."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from team.models import Membership
from team.roles import Role
from tests.conftest import host_of

PASSWORD = "correct horse battery staple"


def owner_make(user: User) -> User:
    """`user` as an owner of its workspace (a new user is a viewer): every console page opens."""
    Membership.objects.filter(user=user).update(role=Role.OWNER)
    return user


def console_client(host: str, user: User | None = None) -> Client:
    """A test client on `host`, enforcing CSRF like a browser, logged in as `user` when given."""
    client = Client(HTTP_HOST=host, enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def user_a(tenant_a, in_tenant) -> User:
    with in_tenant(tenant_a):
        return owner_make(User.objects.create_user("ana", email="ana@alpha.test", password=PASSWORD))


@pytest.fixture
def user_b(tenant_b, in_tenant) -> User:
    with in_tenant(tenant_b):
        return owner_make(User.objects.create_user("bruno", email="bruno@beta.test", password=PASSWORD))


@pytest.fixture
def console_a(tenant_a, user_a, in_tenant) -> Client:
    """Alpha's console, logged in as alpha's user (the session lives in alpha's schema)."""
    with in_tenant(tenant_a):
        return console_client(host_of(tenant_a), user_a)


@pytest.fixture
def console_b(tenant_b, user_b, in_tenant) -> Client:
    with in_tenant(tenant_b):
        return console_client(host_of(tenant_b), user_b)


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("operator", password=PASSWORD, is_staff=True)


@pytest.fixture
def platform_console(staff) -> Client:
    return console_client("localhost", staff)
