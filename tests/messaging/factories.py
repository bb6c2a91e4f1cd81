"""Helpers for messaging tests (tenant schema: create them inside `in_tenant(...)`).

Meta ids default to the ones the recorded webhook fixtures use (tests/fixtures/webhooks/README.md),
so a fixture replayed through the endpoint lands on these rows.
"""

from __future__ import annotations

from platform_core.crypto import Secret
from tenants.models import MetaApp, MetaRoute
from tests.factories import (  # noqa: F401  (the shared factories, re-exported for the messaging tests)
    AccountFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    PhoneNumberFactory,
)

FIXTURE_WABA_ID = "102290129340398"
FIXTURE_PHONE_ID = "106540352242922"
FIXTURE_CUSTOMER = "16315551181"
SECOND_WABA_ID = "104996122399160"
SECOND_PHONE_ID = "107655329012345"


def route_claim(*, tenant, waba_id: str, phone_number_ids: list[str]) -> None:
    """Put a WABA and its numbers in the public routing index, as completing the setup wizard does."""
    MetaRoute.objects.get_or_create(kind=MetaRoute.Kind.WABA, external_id=waba_id, defaults={"tenant": tenant})
    for phone_number_id in phone_number_ids:
        MetaRoute.objects.get_or_create(
            kind=MetaRoute.Kind.PHONE_NUMBER, external_id=phone_number_id, defaults={"tenant": tenant}
        )


def meta_app_create(*, app_id: str, secret: str, verify_token: str, tenant=None) -> MetaApp:
    return MetaApp.objects.create(app_id=app_id, app_secret=Secret(secret), verify_token=verify_token,
                                  tenant=tenant)
