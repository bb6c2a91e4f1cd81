"""Factories for waba models. Use them inside `in_tenant(...)`: the rows live in a tenant schema."""

from __future__ import annotations

import factory

from tests.factories import AccountFactory as SharedAccountFactory
from tests.factories import PhoneNumberFactory as SharedPhoneNumberFactory
from tests.factories import TemplateFactory as SharedTemplateFactory
from tests.waba.conftest import (
    APP_ID,
    APP_SECRET,
    BUSINESS_ID,
    PHONE_E164,
    PHONE_ID,
    TOKEN,
    VERIFY_TOKEN,
    WABA_ID,
)


class AccountFactory(SharedAccountFactory):
    """An active account with the simulator's ids and credentials (no routing claims)."""

    display_name = "Alpha Coffee"
    waba_id = WABA_ID
    business_account_id = BUSINESS_ID
    app_id = APP_ID
    app_secret = APP_SECRET
    access_token = TOKEN
    webhook_verify_token = VERIFY_TOKEN
    profile_name = "Alpha Coffee"
    subscribed_fields = factory.LazyFunction(lambda: ["messages"])
    setup_completed_steps = factory.LazyFunction(lambda: [1, 2, 3, 4, 5, 6])


class PhoneNumberFactory(SharedPhoneNumberFactory):
    """The simulator's number (registration and status left at the model defaults)."""

    account = factory.SubFactory(AccountFactory)
    phone_number_id = PHONE_ID
    e164_number = PHONE_E164
    display_phone_number = "+1 555-010-0001"
    status = ""
    is_registered = False


class TemplateFactory(SharedTemplateFactory):
    """One body variable and a Meta template id, as a synced template has."""

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"template_{n}")
    components = factory.LazyFunction(lambda: [{"type": "BODY", "text": "Hello {{1}}"}])
    variable_count = 1
    meta_template_id = factory.Sequence(lambda n: f"9100000000{n:05d}")
