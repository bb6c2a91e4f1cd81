"""Fixtures of the waba tests: a seeded Graph API simulator and the wizard's inputs.

The simulator knows two WABAs: ours (WABA_ID with PHONE_ID, visible to TOKEN) and another one
(OTHER_WABA_ID with OTHER_PHONE_ID, visible to OTHER_TOKEN). DEAD_TOKEN is invalidated (190).
"""

from __future__ import annotations

import copy

import httpx
import pytest

from tests.conftest import ApiClient

APP_ID = "710000000000001"
APP_SECRET = "sim-app-secret-alpha-0001"
WABA_ID = "720000000000001"
BUSINESS_ID = "740000000000001"
PHONE_ID = "730000000000001"
PHONE_E164 = "+15550100001"
OTHER_WABA_ID = "720000000000002"
OTHER_PHONE_ID = "730000000000002"
SECOND_PHONE_ID = "730000000000003"
TOKEN = "EAAGsimTokenAlpha0123456789abcdefXYZ"
OTHER_TOKEN = "EAAGsimTokenOther0123456789abcdefQRS"
DEAD_TOKEN = "EAAGsimTokenDead00123456789abcdefDDD"
VERIFY_TOKEN = "verify-alpha-0001"

SEED = {
    "apps": [{"app_id": APP_ID, "app_secret": APP_SECRET, "name": "Alpha app"}],
    "wabas": [
        {
            "id": WABA_ID,
            "name": "Alpha Coffee",
            "business_id": BUSINESS_ID,
            "app_id": APP_ID,
            "phone_numbers": [
                {
                    "id": PHONE_ID,
                    "display_phone_number": "+1 555-010-0001",
                    "verified_name": "Alpha Coffee",
                    "quality_rating": "GREEN",
                    "messaging_limit_tier": "TIER_1K",
                    "throughput": {"level": "STANDARD"},
                },
                {"id": SECOND_PHONE_ID, "display_phone_number": "+1 555-010-0003", "verified_name": "Alpha Two"},
            ],
        },
        {
            "id": OTHER_WABA_ID,
            "name": "Someone else",
            "app_id": APP_ID,
            "phone_numbers": [{"id": OTHER_PHONE_ID, "display_phone_number": "+1 555-010-0002"}],
        },
    ],
    "tokens": [
        {"token": TOKEN, "app_id": APP_ID, "waba_ids": [WABA_ID]},
        {"token": OTHER_TOKEN, "app_id": APP_ID, "waba_ids": [OTHER_WABA_ID]},
        {"token": DEAD_TOKEN, "app_id": APP_ID, "waba_ids": [WABA_ID], "valid": False},
    ],
    "config": {"template_review_delay_s": 0},
}

STEP_DATA = {
    "business_account": {
        "display_name": "Alpha Coffee",
        "waba_id": WABA_ID,
        "business_account_id": BUSINESS_ID,
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
    },
    "phone_number": {"phone_number_id": PHONE_ID, "phone_number": "+1 555 010 0001"},
    "access_tokens": {"access_token": TOKEN, "webhook_verify_token": VERIFY_TOKEN},
    "business_profile": {
        "profile_name": "Alpha Coffee",
        "profile_email": "hello@alpha.example",
        "profile_vertical": "RESTAURANT",
        "profile_website": "https://alpha.example",
    },
    "bot_configuration": {
        "auto_reply_enabled": True,
        "greeting_message": "Hi!",
        "fallback_message": "Sorry, I did not get that.",
        "business_hours_start": "09:00",
        "business_hours_end": "17:30",
        "timezone": "Europe/Berlin",
    },
    "webhook_configuration": {"subscribed_fields": ["messages", "message_template_status_update"]},
}
STEP_KEYS = list(STEP_DATA)


@pytest.fixture
def sim(graph_simulator):
    """The session's simulator (reset by graph_simulator) seeded with our WABAs, numbers and tokens."""
    graph_simulator.seed(copy.deepcopy(SEED))
    return graph_simulator


def sim_fault(sim, **rule) -> None:
    """Inject a fault through the simulator's control API (`POST /_sim/faults`)."""
    httpx.post(f"{sim.base_url}/_sim/faults", json=rule).raise_for_status()


@pytest.fixture
def step_data() -> dict:
    return copy.deepcopy(STEP_DATA)


def wizard_run(api: ApiClient, data: dict, *, complete: bool = True):
    """Start a wizard and save every step through the API; returns (account id, last response)."""
    response = api.post_json("/api/v1/setup", {})
    assert response.status_code == 201, response.content
    account_id = response.json()["account_id"]
    for number, key in enumerate(STEP_KEYS, start=1):
        response = api.put_json(f"/api/v1/setup/{account_id}/steps/{number}", data[key])
        assert response.status_code == 200, response.content
    if complete:
        response = api.post_json(f"/api/v1/setup/{account_id}/complete")
    return account_id, response


@pytest.fixture
def live_account(sim, api_a, step_data, tenant_a, in_tenant):
    """Alpha's account, set up through the wizard against the simulator (active).

    The simulator's request log starts empty after it: tests see only the Graph calls they cause.
    """
    from waba.models import WhatsAppAccount

    account_id, response = wizard_run(api_a, step_data)
    assert response.status_code == 200, response.content
    sim.simulator.requests.clear()
    with in_tenant(tenant_a):
        return WhatsAppAccount.objects.get(pk=account_id)
