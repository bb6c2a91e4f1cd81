"""The setup wizard's field errors read as sentences that name the field and its format."""

from __future__ import annotations

import pytest

from tests.waba.conftest import TOKEN
from waba.models import WhatsAppAccount

VERIFY_TOKEN_MESSAGE = (
    "The webhook verify token must be 8 to 128 characters long and use only letters, digits "
    "and the characters . _ ~ - (no spaces), e.g. my-verify-token-2024."
)


@pytest.mark.parametrize("token", ["short", "has spaces in it", "bad/char!acters", "x" * 129])
def test_step_3_explains_the_verify_token_format_in_words(api_a, tenant_a, in_tenant, token):
    account_id = api_a.post_json("/api/v1/setup", {}).json()["account_id"]

    response = api_a.put_json(
        f"/api/v1/setup/{account_id}/steps/3", {"access_token": TOKEN, "webhook_verify_token": token}
    )

    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert details == [
        {"field": "webhook_verify_token", "message": VERIFY_TOKEN_MESSAGE, "type": "string_pattern_mismatch"}
    ]
    assert token not in response.content.decode()  # a secret is never echoed
    with in_tenant(tenant_a):
        assert WhatsAppAccount.objects.get(pk=account_id).setup_completed_steps == []


def test_step_3_accepts_a_verify_token_of_the_described_format(sim, api_a, step_data, tenant_a, in_tenant):
    account_id = api_a.post_json("/api/v1/setup", {}).json()["account_id"]
    api_a.put_json(f"/api/v1/setup/{account_id}/steps/1", step_data["business_account"])

    response = api_a.put_json(
        f"/api/v1/setup/{account_id}/steps/3", {"access_token": TOKEN, "webhook_verify_token": "my-verify_token.2024~"}
    )

    assert response.status_code == 200, response.content
    with in_tenant(tenant_a):
        assert 3 in WhatsAppAccount.objects.get(pk=account_id).setup_completed_steps
