"""Shared fixtures: two tenants created once per test session, per-test transactions, API clients.

The session creates the public tenant, the template schema and two tenants,
`alpha` and `beta`, once; each test then runs in a transaction that is rolled
back, so tests see clean data in ~milliseconds. The outsider (`beta`) is always
at hand for isolation tests.
"""

from __future__ import annotations

import contextlib
import os
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client, override_settings
from django_tenants.utils import schema_context

import sending.limiter as limiter_module
from tenants.models import Tenant
from tests.factories import api_key_for

pytest_plugins = ["tests.fixtures.numbers"]  # number_a / number_b, shared by the area suites

TEST_SETTINGS = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "PLATFORM_DOMAIN": "localhost",
    # The suite speaks plain HTTP to the test client whatever DEBUG is (DATABASE_URL turns it off).
    "SECURE_SSL_REDIRECT": False,
    # Counters are written when a test calls platform_core.counters.counters_flush(), never by a thread.
    "METRICS_COUNTERS_FLUSH_S": 0,
}


@pytest.fixture(scope="session", autouse=True)
def _fast_test_settings():
    override = override_settings(**TEST_SETTINGS)
    override.enable()
    yield
    override.disable()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Pytest-django's test database, plus the public tenant, the template schema and two tenants."""
    from tenants.services import public_tenant_ensure, template_schema_ensure, tenant_create

    with django_db_blocker.unblock():
        public_tenant_ensure()
        template_schema_ensure()
        for slug, name in (("alpha", "Alpha Coffee"), ("beta", "Beta Solar")):
            if not Tenant.objects.filter(slug=slug).exists():
                tenant_create(slug=slug, name=name)
    yield


@pytest.fixture(autouse=True)
def _back_to_public_schema():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _fresh_limiter(monkeypatch):
    """Limiter and quota state of each test is its own: PostgreSQL's rolls back with the test, Redis
    (REDIS_URL set) gets a namespace per test, since its counters outlive the test database and a
    later run's rows reuse the same ids."""
    if django_settings.REDIS_URL:
        from sending.limiter.redis_backend import RedisRateLimiter

        backend = RedisRateLimiter(django_settings.REDIS_URL, namespace=f"test:{uuid.uuid4().hex[:10]}:")
        monkeypatch.setattr(limiter_module, "_limiter", backend)
        yield
        # A test that fakes name resolution still has it faked here; its keys then simply expire.
        with contextlib.suppress(redis.exceptions.ConnectionError):
            backend.reset()
    else:
        monkeypatch.setattr(limiter_module, "_limiter", None)
        yield


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant.objects.get(slug="alpha")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return Tenant.objects.get(slug="beta")


def host_of(tenant: Tenant) -> str:
    return tenant.domains.get(is_primary=True).domain


class ApiClient(Client):
    """A test client bound to one host and, optionally, one bearer key."""

    def __init__(self, host: str, key: str | None = None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        super().__init__(HTTP_HOST=host, headers=headers)
        self.key = key

    def post_json(self, path: str, data: object = None, **extra):
        return self.post(
            path, data=data if data is not None else {}, content_type="application/json", **extra
        )

    def patch_json(self, path: str, data: object, **extra):
        return self.patch(path, data=data, content_type="application/json", **extra)

    def put_json(self, path: str, data: object, **extra):
        return self.put(path, data=data, content_type="application/json", **extra)

    def delete_json(self, path: str, data: object = None, **extra):
        return self.delete(
            path, data=data if data is not None else {}, content_type="application/json", **extra
        )


@pytest.fixture
def api_a(tenant_a) -> ApiClient:
    """Tenant alpha's API, authenticated with a fresh alpha key."""
    return ApiClient(host_of(tenant_a), api_key_for(tenant_a).key)


@pytest.fixture
def api_b(tenant_b) -> ApiClient:
    return ApiClient(host_of(tenant_b), api_key_for(tenant_b).key)


@pytest.fixture
def platform_api(db) -> ApiClient:
    return ApiClient("localhost", api_key_for(None).key)


@pytest.fixture
def in_tenant():
    """`with in_tenant(tenant): ...` runs ORM code inside that tenant's schema."""
    return lambda tenant: schema_context(tenant.schema_name)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("REDIS_URL"):
        return
    skip = pytest.mark.skip(reason="REDIS_URL is not set")
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def _simulator_server():
    from graph_simulator import start_simulator

    handle = start_simulator(port=0)
    yield handle
    handle.stop()


@pytest.fixture
def graph_simulator(_simulator_server, settings):
    """The Graph API simulator as a real HTTP server on loopback, reset for this test.

    GRAPH_API_BASE_URL points at it for the test's duration. Seed it with
    `graph_simulator.seed({...})`; inspect what the platform sent with
    `graph_simulator.requests(...)`.
    """
    _simulator_server.simulator.reset()  # state, faults, request log, pending webhooks
    settings.GRAPH_API_BASE_URL = _simulator_server.base_url
    yield _simulator_server
    _simulator_server.simulator.reset()  # nothing a test injected outlives it


@pytest.fixture
def sync_jobs(monkeypatch):
    """Run django-q2 tasks in-process at enqueue time (the cluster's code path, without a worker)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


_browser_tests_passed = 0


def pytest_runtest_logreport(report):
    global _browser_tests_passed
    if report.when == "call" and report.passed and "browser" in report.keywords:
        _browser_tests_passed += 1


def pytest_sessionfinish(session, exitstatus):
    """With REQUIRE_BROWSER_TESTS (set by .ci/run), a run in which no browser test passed fails."""
    if os.environ.get("REQUIRE_BROWSER_TESTS") and exitstatus == 0 and _browser_tests_passed == 0:
        session.config.get_terminal_writer().line(
            "REQUIRE_BROWSER_TESTS is set but no browser test ran and passed: failing.", red=True
        )
        session.exitstatus = 1
