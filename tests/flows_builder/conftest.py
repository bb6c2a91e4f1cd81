"""Fixtures of the flows tests: alpha's WhatsApp account and number, and a simulator that knows them."""

from __future__ import annotations

import pytest

from flows_builder.endpoint.keys import private_key_cache_clear
from tests.flows_builder.factories import (
    ACCESS_TOKEN,
    APP_ID,
    APP_SECRET,
    PHONE_NUMBER_ID,
    WABA_ID,
    ContactFactory,
    PhoneNumberFactory,
    WhatsAppAccountFactory,
)


@pytest.fixture
def alpha_account(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        return WhatsAppAccountFactory()


@pytest.fixture
def alpha_number(tenant_a, in_tenant, alpha_account):
    with in_tenant(tenant_a):
        return PhoneNumberFactory(account=alpha_account)


@pytest.fixture
def alpha_contact(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        return ContactFactory()


@pytest.fixture
def sim(graph_simulator):
    """The simulator (reset by graph_simulator) seeded with alpha's WABA."""
    graph_simulator.seed(
        {
            "apps": [{"app_id": APP_ID, "app_secret": APP_SECRET}],
            "wabas": [
                {
                    "id": WABA_ID,
                    "app_id": APP_ID,
                    "phone_numbers": [{"id": PHONE_NUMBER_ID, "display_phone_number": "+1 555-010-0777"}],
                }
            ],
            "tokens": [{"token": ACCESS_TOKEN, "app_id": APP_ID, "waba_ids": [WABA_ID]}],
        }
    )
    yield graph_simulator
    graph_simulator.simulator.faults.clear()


@pytest.fixture(autouse=True)
def _fresh_private_key_cache():
    private_key_cache_clear()
    yield
    private_key_cache_clear()


@pytest.fixture(autouse=True)
def _fresh_inbound_throttle():
    """Every test client request comes from 127.0.0.1: no test inherits another's refusals (432, 404)."""
    from webhooks.throttle import inbound_throttle_reset

    inbound_throttle_reset()
    yield
    inbound_throttle_reset()
