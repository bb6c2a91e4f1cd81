"""Fuzzing both APIs from their OpenAPI schemas: no operation answers 5xx, every answer fits its schema.

Schemathesis generates valid and invalid requests for every operation of the tenant API (`/api/v1`,
as tenant alpha with a live key) and of the platform API (`/api/platform`, with a platform key) and
sends them to the real WSGI application in-process. Each request runs in a savepoint that is rolled
back, so what one request creates or deletes never leaks into the next, nor out of the test
database; Graph calls reach only the simulator fixture (`_no_network` refuses everything else).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.db import transaction
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from platform_core.urls_public import api as platform_api
from platform_core.urls_tenant import api as tenant_api
from platform_core.wsgi import application
from tests.conftest import host_of
from tests.factories import api_key_for
from tests.fuzz.profiles import long_run

CHECKS = [not_a_server_error, response_schema_conformance]

# Valid and invalid data (both generation modes), a fixed seed; the coverage phase (boundary values of
# every parameter, some fifty requests per operation) only in the long run.
CONFIG = schemathesis.Config.from_dict({"seed": 0, "phases": {"coverage": {"enabled": long_run()}}})


def _schema(api, prefix: str):
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix=prefix), config=CONFIG)
    schema.app = application
    return schema


tenant_schema = _schema(tenant_api, "/api/v1")
platform_schema = _schema(platform_api, "/api/platform")


def _call(case, *, host: str, key: str) -> None:
    with transaction.atomic():
        response = case.call(base_url=f"http://{host}", headers={"Authorization": f"Bearer {key}"})
        case.validate_response(response, checks=CHECKS)
        transaction.set_rollback(True)


@pytest.fixture
def tenant_caller(tenant_a, number_a, graph_simulator, wsgi_in_test_transaction):
    key = api_key_for(tenant_a).key
    host = host_of(tenant_a)
    return lambda case: _call(case, host=host, key=key)


@pytest.fixture
def platform_caller(db, graph_simulator, wsgi_in_test_transaction):
    key = api_key_for(None).key
    return lambda case: _call(case, host="localhost", key=key)


@tenant_schema.parametrize()
def test_tenant_api(case, tenant_caller):
    tenant_caller(case)


@platform_schema.parametrize()
def test_platform_api(case, platform_caller):
    platform_caller(case)
