"""Phone numbers: add (checked with Meta and claimed once the account is live), refresh from Meta,
register, remove."""

from __future__ import annotations

import pytest

from tenants.models import MetaRoute
from tests.waba.conftest import OTHER_PHONE_ID, PHONE_ID, SECOND_PHONE_ID, WABA_ID, sim_fault
from tests.waba.factories import AccountFactory
from waba.models import PhoneNumber
from waba.validation import PhoneNumberInvalid, phone_number_normalise


def test_adding_a_number_to_a_live_account_checks_meta_and_claims_it(live_account, sim, api_a, tenant_a):
    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/phone-numbers", {"phone_number_id": SECOND_PHONE_ID})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["verified_name"] == "Alpha Two" and body["e164_number"] == "+15550100003"
    assert MetaRoute.objects.get(kind="phone_number", external_id=SECOND_PHONE_ID).tenant_id == tenant_a.id
    assert sim.requests()[-1]["path"].endswith(f"{WABA_ID}/phone_numbers")
    listed = api_a.get(f"/api/v1/accounts/{live_account.pk}/phone-numbers").json()
    assert [item["phone_number_id"] for item in listed] == [PHONE_ID, SECOND_PHONE_ID]


def test_a_number_of_another_waba_is_refused(live_account, sim, api_a, tenant_a, in_tenant):
    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/phone-numbers", {"phone_number_id": OTHER_PHONE_ID})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "phone_number_not_in_waba"
    assert not MetaRoute.objects.filter(external_id=OTHER_PHONE_ID).exists()
    with in_tenant(tenant_a):
        assert not PhoneNumber.objects.filter(phone_number_id=OTHER_PHONE_ID).exists()


def test_a_number_claimed_by_another_tenant_is_409(live_account, sim, api_a, tenant_b):
    MetaRoute.objects.create(kind="phone_number", external_id=SECOND_PHONE_ID, tenant=tenant_b)

    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/phone-numbers", {"phone_number_id": SECOND_PHONE_ID})

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "already_claimed",
        "message": response.json()["error"]["message"],
        "details": {"kind": "phone_number", "external_id": SECOND_PHONE_ID},
    }


def test_adding_to_a_draft_validates_locally_and_waits_for_completion(api_a, tenant_a, in_tenant):
    account_id = api_a.post_json("/api/v1/accounts", {}).json()["id"]

    bad = api_a.post_json(f"/api/v1/accounts/{account_id}/phone-numbers", {"phone_number_id": "abc", "phone_number": "5"})
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"phone_number_id", "phone_number"}
    missing = api_a.post_json(f"/api/v1/accounts/{account_id}/phone-numbers", {"phone_number_id": "42"})
    assert missing.json()["error"]["details"][0]["field"] == "phone_number"

    ok = api_a.post_json(f"/api/v1/accounts/{account_id}/phone-numbers", {"phone_number_id": "42", "phone_number": "+49 30 1234567"})
    assert ok.status_code == 201
    assert ok.json()["e164_number"] == "+49301234567" and ok.json()["display_phone_number"] == "+49 30 1234567"
    assert not MetaRoute.objects.filter(external_id="42").exists()
    duplicate = api_a.post_json(f"/api/v1/accounts/{account_id}/phone-numbers", {"phone_number_id": "42", "phone_number": "+49301234567"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "phone_number_exists"


def test_refresh_updates_quality_tier_throughput_status_and_name_from_meta(live_account, sim, api_a, tenant_a, in_tenant):
    sim.seed(
        {
            "phone_numbers": [
                {
                    "id": PHONE_ID,
                    "waba_id": WABA_ID,
                    "display_phone_number": "+1 555-010-0001",
                    "verified_name": "Alpha Roasters",
                    "quality_rating": "YELLOW",
                    "messaging_limit_tier": "TIER_10K",
                    "throughput": {"level": "HIGH"},
                    "status": "FLAGGED",
                    "name_status": "APPROVED",
                }
            ]
        }
    )
    with in_tenant(tenant_a):
        PhoneNumber.objects.create(account=live_account, phone_number_id="7999", e164_number="+15550109999")

    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/phone-numbers/refresh")

    assert response.status_code == 200
    assert response.json() == {"updated": [PHONE_ID], "unchanged": [], "missing": ["7999"]}
    with in_tenant(tenant_a):
        phone = PhoneNumber.objects.get(phone_number_id=PHONE_ID)
    assert (phone.quality_rating, phone.messaging_limit_tier, phone.throughput_level, phone.throughput_mps) == (
        "YELLOW",
        "TIER_10K",
        "HIGH",
        1000,
    )
    assert (phone.status, phone.verified_name) == ("FLAGGED", "Alpha Roasters")
    again = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/phone-numbers/refresh").json()
    assert again["unchanged"] == [PHONE_ID]


def test_refresh_with_a_dead_token_marks_the_account_unhealthy(live_account, sim, api_a, tenant_a, in_tenant):
    sim.seed({"tokens": [{"token": live_account.access_token.reveal(), "valid": False}]})

    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/phone-numbers/refresh")

    assert response.status_code == 424
    assert response.json()["error"]["code"] == "meta_token_invalid"
    assert response.json()["error"]["details"]["meta_code"] == 190
    account = api_a.get(f"/api/v1/accounts/{live_account.pk}").json()
    assert (account["status"], account["status_error_code"]) == ("unhealthy", 190)


def test_throttling_answers_503_with_retry_after(live_account, sim, api_a):
    sim_fault(sim, path_contains="phone_numbers", status=400, error_code=80007, times=5)

    response = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/phone-numbers/refresh")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "meta_unavailable"
    assert int(response["Retry-After"]) >= 1


def test_register_sends_the_pin_and_remove_releases_the_route(live_account, sim, api_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        phone = PhoneNumber.objects.get(phone_number_id=PHONE_ID)

    assert api_a.post_json(f"/api/v1/phone-numbers/{phone.pk}/register", {"pin": "12a"}).status_code == 422
    response = api_a.post_json(f"/api/v1/phone-numbers/{phone.pk}/register", {"pin": "123456"})
    assert response.status_code == 200 and response.json()["is_registered"] is True
    register = sim.requests(path_contains="/register")[-1]
    assert register["body"] == {"messaging_product": "whatsapp", "pin": "123456"}

    assert api_a.delete(f"/api/v1/phone-numbers/{phone.pk}").status_code == 204
    assert not MetaRoute.objects.filter(external_id=PHONE_ID).exists()
    assert api_a.get(f"/api/v1/phone-numbers/{phone.pk}").status_code == 404


def test_adding_to_an_account_of_another_tenant_is_404(api_b, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account = AccountFactory()
    response = api_b.post_json(f"/api/v1/accounts/{account.pk}/phone-numbers", {"phone_number_id": "1", "phone_number": "+15550100009"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "written", ["+49 151 1234 5678", "0049 151 1234 5678", "49 151 1234 5678", " +49 (151) 1234-5678 "]
)
def test_one_rule_reads_a_number_with_its_country_code_however_it_is_written(written):
    assert phone_number_normalise(written) == "+4915112345678"


def test_without_a_country_code_a_number_is_read_in_the_given_region():
    assert phone_number_normalise("0151 1234 5678", region="DE") == "+4915112345678"
    assert phone_number_normalise("631 555 1181", region="US") == "+16315551181"


def test_meta_test_numbers_are_possible_but_not_valid():
    assert phone_number_normalise("+1 555-010-0001", possible_only=True) == "+15550100001"
    with pytest.raises(PhoneNumberInvalid) as invalid:
        phone_number_normalise("+1 555-010-0001")
    assert invalid.value.readable


@pytest.mark.parametrize(
    ("written", "readable", "reason"),
    [
        ("+1 555 0100", True, "too_short"),  # a local number without its area code
        ("+49 151", True, "too_short"),
        ("+49 151 1234 5678 9012 34", True, "too_long"),
        ("+999 123 4567", False, "unknown_country_code"),
        ("not a number", False, "not_a_number"),
    ],
)
def test_an_impossible_number_says_what_is_wrong(written, readable, reason):
    with pytest.raises(PhoneNumberInvalid) as invalid:
        phone_number_normalise(written, possible_only=True)
    assert (invalid.value.readable, invalid.value.reason) == (readable, reason)


def test_a_possible_number_that_is_not_assigned_says_so_when_validity_is_asked():
    with pytest.raises(PhoneNumberInvalid) as invalid:
        phone_number_normalise("+1 555-555-0123")
    assert invalid.value.reason == "not_assigned"
    assert str(invalid.value) == "not an assigned phone number"


@pytest.mark.parametrize("written", ["", "not a number", "+0049 151 1234 5678"])
def test_text_that_is_no_phone_number_is_unreadable(written):
    with pytest.raises(PhoneNumberInvalid) as invalid:
        phone_number_normalise(written, possible_only=True)
    assert not invalid.value.readable


def test_a_business_number_written_with_00_is_accepted(api_a):
    """The wizard's and this API's number field now follows the rule recipients follow (00 = +)."""
    account_id = api_a.post_json("/api/v1/accounts", {}).json()["id"]

    response = api_a.post_json(
        f"/api/v1/accounts/{account_id}/phone-numbers", {"phone_number_id": "43", "phone_number": "0049 30 1234567"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["e164_number"] == "+49301234567"
