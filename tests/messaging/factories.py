"""Factories for messaging tests (tenant schema: create them inside `in_tenant(...)`).

Meta ids default to the ones the recorded webhook fixtures use (tests/fixtures/webhooks/README.md),
so a fixture replayed through the endpoint lands on these rows.
"""

from __future__ import annotations

import factory
from django.utils import timezone

from messaging.models import Contact, Conversation, Message
from platform_core.crypto import Secret
from tenants.models import MetaApp, MetaRoute
from waba.models import PhoneNumber, WhatsAppAccount

FIXTURE_WABA_ID = "102290129340398"
FIXTURE_PHONE_ID = "106540352242922"
FIXTURE_CUSTOMER = "16315551181"
SECOND_WABA_ID = "104996122399160"
SECOND_PHONE_ID = "107655329012345"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WhatsAppAccount

    display_name = factory.Sequence(lambda n: f"Inbound account {n}")
    waba_id = factory.Sequence(lambda n: f"61{n:011d}")
    app_id = "610000000000001"
    access_token = factory.Sequence(lambda n: Secret(f"EAAinbound-token-{n:04d}"))
    status = WhatsAppAccount.Status.ACTIVE


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    account = factory.SubFactory(AccountFactory)
    phone_number_id = factory.Sequence(lambda n: f"62{n:011d}")
    display_phone_number = factory.Sequence(lambda n: f"1555078{n % 10000:04d}")
    e164_number = factory.LazyAttribute(lambda p: f"+{p.display_phone_number}")
    status = "CONNECTED"
    is_registered = True


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    wa_id = factory.Sequence(lambda n: f"4915100{n:06d}")
    profile_name = factory.Sequence(lambda n: f"Customer {n}")
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    phone_number = factory.SubFactory(PhoneNumberFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    contact = factory.LazyAttribute(lambda m: m.conversation.contact)
    phone_number = factory.LazyAttribute(lambda m: m.conversation.phone_number)
    direction = Message.Direction.INBOUND
    wamid = factory.Sequence(lambda n: f"wamid.test{n:08d}")
    type = "text"
    content = factory.LazyAttribute(lambda m: {"body": m.body})
    body = factory.Sequence(lambda n: f"message {n}")
    status = factory.LazyAttribute(
        lambda m: Message.Status.RECEIVED if m.direction == Message.Direction.INBOUND else Message.Status.SENT
    )
    timestamp = factory.LazyFunction(timezone.now)


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
