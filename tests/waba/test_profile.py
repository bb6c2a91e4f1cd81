"""The business profile: pushed when the wizard completes and on every edit, Meta's limits first,
the profile photo from a resumable-upload handle, read back from Meta, isolation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.waba.conftest import PHONE_ID, wizard_run
from waba.models import BusinessProfile

PROFILE_PATH = f"{PHONE_ID}/whatsapp_business_profile"


def profile_posts(sim):
    return [r for r in sim.requests(method="POST", path_contains="whatsapp_business_profile")]


def test_completing_the_wizard_pushes_the_profile(sim, api_a, step_data, tenant_a, in_tenant):
    account_id, response = wizard_run(api_a, step_data)
    assert response.status_code == 200, response.content

    sent = profile_posts(sim)
    assert len(sent) == 1
    assert sent[0]["object_id"] == PHONE_ID
    assert sent[0]["body"] == {
        "messaging_product": "whatsapp",
        "address": "",
        "description": "",
        "email": "hello@alpha.example",
        "websites": ["https://alpha.example"],
        "vertical": "RESTAURANT",
    }
    with in_tenant(tenant_a):
        assert BusinessProfile.objects.get(account_id=account_id).pushed_at is not None


def test_an_edit_is_pushed_then_stored_and_read_back(live_account, sim, api_a):
    change = {
        "about": "Fresh coffee every day",
        "description": "Roastery and cafe.",
        "address": "1 Bean Street, Berlin",
        "email": "shop@alpha.example",
        "websites": ["https://alpha.example", "https://shop.alpha.example"],
        "vertical": "RETAIL",
    }

    response = api_a.patch_json(f"/api/v1/accounts/{live_account.pk}/business-profile", change)

    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in change} == change
    assert profile_posts(sim)[-1]["body"] == {"messaging_product": "whatsapp", **change}
    remote = sim.state.business_profiles[PHONE_ID]
    assert remote["about"] == "Fresh coffee every day" and remote["vertical"] == "RETAIL"

    sim.state.business_profiles[PHONE_ID]["about"] = "Changed in WhatsApp Manager"
    refreshed = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/business-profile/refresh")
    assert refreshed.json()["about"] == "Changed in WhatsApp Manager"
    assert (
        api_a.get(f"/api/v1/accounts/{live_account.pk}/business-profile").json()["about"]
        == "Changed in WhatsApp Manager"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"about": "x" * 140}, "about"),
        ({"description": "x" * 513}, "description"),
        ({"address": "x" * 257}, "address"),
        ({"email": "not-an-email"}, "email"),
        ({"websites": ["https://a.example", "https://b.example", "https://c.example"]}, "websites"),
        ({"websites": ["ftp://a.example"]}, "websites"),
        ({"vertical": "SPACESHIPS"}, "vertical"),
    ],
)
def test_values_meta_would_refuse_never_leave(live_account, sim, api_a, change, field):
    before = len(profile_posts(sim))
    response = api_a.patch_json(f"/api/v1/accounts/{live_account.pk}/business-profile", change)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == field
    assert len(profile_posts(sim)) == before


def test_the_profile_photo_comes_from_a_resumable_upload(live_account, sim, api_a):
    photo = SimpleUploadedFile("logo.png", b"\x89PNG" + b"l" * 500, content_type="image/png")
    handle = api_a.post(f"/api/v1/accounts/{live_account.pk}/media?purpose=sample", {"file": photo}).json()[
        "handle"
    ]

    response = api_a.patch_json(
        f"/api/v1/accounts/{live_account.pk}/business-profile", {"profile_picture_handle": handle}
    )

    assert response.status_code == 200, response.content
    assert profile_posts(sim)[-1]["body"]["profile_picture_handle"] == handle
    assert response.json()["profile_picture_url"].endswith(f"/_profile_pictures/{PHONE_ID}")


def test_another_tenants_profile_is_not_found(live_account, sim, api_b):
    assert api_b.get(f"/api/v1/accounts/{live_account.pk}/business-profile").status_code == 404
    assert (
        api_b.patch_json(f"/api/v1/accounts/{live_account.pk}/business-profile", {"about": "x"}).status_code
        == 404
    )
