"""GET /phone-numbers: every number of every account of the workspace, paged and filtered."""

from __future__ import annotations

import pytest

from tests.factories import AccountFactory, PhoneNumberFactory


@pytest.fixture
def alpha_numbers(tenant_a, in_tenant):
    """Two accounts in alpha: three numbers in the first, one in the second."""
    with in_tenant(tenant_a):
        first, second = AccountFactory(display_name="Coffee"), AccountFactory(display_name="Bakery")
        numbers = [
            PhoneNumberFactory(account=first, status="CONNECTED", quality_rating="GREEN",
                               messaging_limit_tier="TIER_1K", throughput_level="STANDARD", throughput_mps=80),
            PhoneNumberFactory(account=first, status="PENDING", quality_rating="UNKNOWN"),
            PhoneNumberFactory(account=first, status="CONNECTED", quality_rating="RED"),
            PhoneNumberFactory(account=second, status="CONNECTED", quality_rating="GREEN",
                               messaging_limit_tier="TIER_10K", throughput_level="HIGH", throughput_mps=1000),
        ]
    return first, second, numbers


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_lists_every_number_of_every_account(api_a, alpha_numbers):
    first, second, numbers = alpha_numbers

    body = api_a.get("/api/v1/phone-numbers").json()

    assert body["count"] == 4
    assert [item["id"] for item in body["items"]] == [number.pk for number in numbers]
    last = body["items"][3]
    assert last["account_id"] == second.pk
    assert last["display_phone_number"] == numbers[3].display_phone_number
    assert (last["status"], last["quality_rating"], last["messaging_limit_tier"]) == ("CONNECTED", "GREEN", "TIER_10K")
    assert (last["throughput_level"], last["throughput_mps"]) == ("HIGH", 1000)


def test_filters_by_account_status_and_quality_and_pages(api_a, alpha_numbers):
    first, second, numbers = alpha_numbers

    assert _ids(api_a.get(f"/api/v1/phone-numbers?account_id={second.pk}")) == [numbers[3].pk]
    assert _ids(api_a.get("/api/v1/phone-numbers?status=connected")) == [numbers[0].pk, numbers[2].pk, numbers[3].pk]
    assert _ids(api_a.get(f"/api/v1/phone-numbers?account_id={first.pk}&status=CONNECTED&quality_rating=red")) == [
        numbers[2].pk
    ]
    page = api_a.get("/api/v1/phone-numbers?limit=2&offset=2").json()
    assert page["count"] == 4
    assert [item["id"] for item in page["items"]] == [numbers[2].pk, numbers[3].pk]


def test_another_tenant_sees_only_its_own_numbers(api_b, tenant_b, in_tenant, alpha_numbers):
    first, _, _ = alpha_numbers
    with in_tenant(tenant_b):
        beta_number = PhoneNumberFactory()

    assert _ids(api_b.get("/api/v1/phone-numbers")) == [beta_number.pk]
    assert _ids(api_b.get(f"/api/v1/phone-numbers?account_id={first.pk}")) == []


def test_bad_filters_are_refused(api_a):
    response = api_a.get("/api/v1/phone-numbers?account_id=0")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert api_a.get("/api/v1/phone-numbers?limit=500").status_code == 422


def test_requires_a_key(tenant_a):
    from tests.conftest import ApiClient, host_of

    response = ApiClient(host_of(tenant_a)).get("/api/v1/phone-numbers")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
