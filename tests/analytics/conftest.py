"""Fixtures for the analytics tests: in-process django-q2, and a simulator seeded with one WABA per tenant."""

from __future__ import annotations

import socket

import pytest

from tests.analytics.factories import AccountFactory, PhoneNumberFactory

APP_ID = "100000000000001"
ALPHA = {"waba_id": "210000000000001", "phone_number_id": "310000000000001", "token": "EAAtoken-alpha-health"}
BETA = {"waba_id": "220000000000001", "phone_number_id": "320000000000001", "token": "EAAtoken-beta-health"}


def simulator_seed(simulator, *, subscribed: bool = True, **token) -> None:
    """Both tenants' WABAs, numbers and tokens in the simulator; `token` overrides alpha's token fields."""
    wabas = []
    for ids, name in ((ALPHA, "Alpha Coffee"), (BETA, "Beta Solar")):
        wabas.append(
            {
                "id": ids["waba_id"],
                "name": name,
                "app_id": APP_ID,
                "subscribed_apps": [APP_ID] if subscribed else [],
                "phone_numbers": [
                    {
                        "id": ids["phone_number_id"],
                        "display_phone_number": f"+1 555-0{ids['phone_number_id'][-3:]}",
                        "quality_rating": "GREEN",
                        "messaging_limit_tier": "TIER_1K",
                        "throughput": {"level": "STANDARD"},
                        "status": "CONNECTED",
                    }
                ],
            }
        )
    simulator.seed(
        {
            "apps": [{"app_id": APP_ID, "app_secret": "sim-app-secret", "name": "Platform"}],
            "wabas": wabas,
            "tokens": [
                {"token": ALPHA["token"], "app_id": APP_ID, "waba_ids": [ALPHA["waba_id"]], **token},
                {"token": BETA["token"], "app_id": APP_ID, "waba_ids": [BETA["waba_id"]]},
            ],
        }
    )


def account_with_number(ids: dict):
    """The tenant-side twin of a seeded WABA (create inside `in_tenant`)."""
    account = AccountFactory.create(waba_id=ids["waba_id"], app_id=APP_ID, access_token=ids["token"])
    PhoneNumberFactory(
        account=account,
        phone_number_id=ids["phone_number_id"],
        quality_rating="GREEN",
        messaging_limit_tier="TIER_1K",
        throughput_level="STANDARD",
        status="CONNECTED",
    )
    account.refresh_from_db()
    return account


@pytest.fixture
def simulator(graph_simulator):
    """The shared simulator (graph_simulator resets it before and after each test)."""
    return graph_simulator


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL on which nothing listens: every Graph call fails to connect."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
