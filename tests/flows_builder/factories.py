"""Factories of the flows tests. Create objects inside `in_tenant(...)`: they live in that schema."""

from __future__ import annotations

import copy
from datetime import timedelta

import factory
from django.utils import timezone

from flows_builder.definitions import BUILTIN_FLOWS
from flows_builder.models import FlowToken, WhatsAppFlow
from tests.factories import AccountFactory
from tests.factories import ContactFactory as SharedContactFactory
from tests.factories import PhoneNumberFactory as SharedPhoneNumberFactory

WABA_ID = "200000000000777"
PHONE_NUMBER_ID = "300000000000777"
APP_ID = "100000000000777"
APP_SECRET = "flows-app-secret-777"
ACCESS_TOKEN = "EAAflows-alpha-token-0777"


class WhatsAppAccountFactory(AccountFactory):
    """The flows tests' one account: fixed ids and credentials."""

    display_name = "Alpha Solar"
    waba_id = WABA_ID
    app_id = APP_ID
    app_secret = APP_SECRET
    access_token = ACCESS_TOKEN


class PhoneNumberFactory(SharedPhoneNumberFactory):
    """The flows tests' one number (registration and status left at the model defaults)."""

    account = factory.SubFactory(WhatsAppAccountFactory)
    phone_number_id = PHONE_NUMBER_ID
    e164_number = "+15550100777"
    display_phone_number = "+1 555-010-0777"
    status = ""
    is_registered = False


class ContactFactory(SharedContactFactory):
    """The flows tests' one customer (the recorded fixtures' wa_id), got or created."""

    class Meta:
        django_get_or_create = ("wa_id",)

    wa_id = "16315551181"
    profile_name = "Kerry Fisher"
    first_seen_at = None
    last_seen_at = None


class WhatsAppFlowFactory(factory.django.DjangoModelFactory):
    """A built-in flow's JSON under its name (default: Starlink), not synced yet."""

    class Meta:
        model = WhatsAppFlow

    class Params:
        definition = "starlink_installation"

    account = factory.SubFactory(WhatsAppAccountFactory)
    name = factory.LazyAttribute(lambda o: o.definition)
    friendly_name = factory.LazyAttribute(lambda o: BUILTIN_FLOWS[o.definition].friendly_name)
    categories = factory.LazyAttribute(lambda o: [str(c) for c in BUILTIN_FLOWS[o.definition].categories])
    flow_json = factory.LazyAttribute(lambda o: copy.deepcopy(BUILTIN_FLOWS[o.definition].flow_json))
    flow_definition_name = factory.LazyAttribute(lambda o: BUILTIN_FLOWS[o.definition].flow_definition_name)


class FlowTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FlowToken

    token = factory.Sequence(lambda n: f"ft_test_{n}")
    flow = factory.SubFactory(WhatsAppFlowFactory)
    contact = factory.SubFactory(ContactFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
