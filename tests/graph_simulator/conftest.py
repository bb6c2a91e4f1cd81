"""One simulator and one webhook receiver for the module; every test starts from a fresh seed.

No database: these tests talk to the simulator over real HTTP only.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from graph_simulator import SimulatorHandle, start_simulator
from tests.graph_simulator.receiver import WebhookReceiver

APP_ID = "100000000000001"
APP_SECRET = "app-secret-1"
WABA_ID = "200000000000001"
PHONE_ID = "300000000000001"
OTHER_WABA_ID = "200000000000002"
OTHER_PHONE_ID = "300000000000002"
TOKEN = "EAAtoken-alpha"
OUTSIDER_TOKEN = "EAAtoken-outsider"
CUSTOMER = "15550001111"

FAST_CONFIG = {"template_review_delay_s": 0, "status_delay_ms": 5, "webhook_retry_delays_s": [0.05, 0.05]}


def seed_document(webhook_url: str) -> dict:
    return {
        "apps": [
            {"app_id": APP_ID, "app_secret": APP_SECRET, "webhook_url": webhook_url, "name": "Platform"}
        ],
        "wabas": [
            {
                "id": WABA_ID,
                "name": "Alpha Coffee",
                "business_id": "900",
                "app_id": APP_ID,
                "phone_numbers": [
                    {
                        "id": PHONE_ID,
                        "display_phone_number": "+1 555-010-0001",
                        "verified_name": "Alpha Coffee",
                        "throughput": {"level": "STANDARD"},
                        "messaging_limit_tier": "TIER_1K",
                    }
                ],
            },
            {
                "id": OTHER_WABA_ID,
                "name": "Beta Solar",
                "app_id": APP_ID,
                "phone_numbers": [{"id": OTHER_PHONE_ID, "display_phone_number": "+1 555-010-0002"}],
            },
        ],
        "tokens": [
            {"token": TOKEN, "app_id": APP_ID, "waba_ids": [WABA_ID]},
            {"token": OUTSIDER_TOKEN, "app_id": APP_ID, "waba_ids": [OTHER_WABA_ID]},
        ],
        "templates": [
            {
                "waba_id": WABA_ID,
                "name": "order_update",
                "language": "en_US",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Hi {{1}}, order {{2}} shipped."}],
            },
        ],
    }


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorHandle]:
    handle = start_simulator(port=0)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def control_client(simulator: SimulatorHandle) -> Iterator[httpx.Client]:
    # Clients live per module: building an httpx.Client (its TLS context) costs tens of milliseconds.
    with httpx.Client(base_url=f"{simulator.base_url}/_sim") as client:
        yield client


@pytest.fixture(scope="module")
def graph_client(simulator: SimulatorHandle) -> Iterator[httpx.Client]:
    """A keep-alive Graph client holding the tenant's token, like the platform's client."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=f"{simulator.base_url}/v23.0", headers=headers) as client:
        yield client


@pytest.fixture
def sim(
    simulator: SimulatorHandle, control_client: httpx.Client, receiver: WebhookReceiver
) -> SimulatorHandle:
    """The module's simulator, reset, re-seeded and with fast delays; the receiver emptied."""
    control_client.post("/reset").raise_for_status()
    control_client.post("/seed", json=seed_document(receiver.url)).raise_for_status()
    control_client.post("/config", json=FAST_CONFIG).raise_for_status()
    receiver.clear()
    return simulator


@pytest.fixture
def graph(sim: SimulatorHandle, graph_client: httpx.Client) -> httpx.Client:
    return graph_client


@pytest.fixture
def control(sim: SimulatorHandle, control_client: httpx.Client) -> httpx.Client:
    return control_client
