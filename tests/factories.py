"""factory-boy factories. Tenants are costly (a schema each): tests use the session's `alpha` and `beta`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from messaging.models import Contact, Conversation, Message
from platform_core.crypto import Secret
from tenants.models import Tenant
from tenants.services import CreatedApiKey, api_key_create
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount


class TenantUserFactory(factory.django.DjangoModelFactory):
    """A user of whatever schema is active when it is created (use inside `in_tenant`)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")
    is_staff = True
    is_superuser = True


class ApiKeyFactory(factory.Factory):
    """Builds a live key through the service; the result carries the clear key once (`.key`)."""

    class Meta:
        model = CreatedApiKey

    tenant: Tenant | None = None
    name = factory.Sequence(lambda n: f"test key {n}")

    @classmethod
    def _create(cls, model_class, *, tenant: Tenant | None, name: str) -> CreatedApiKey:
        return api_key_create(tenant=tenant, name=name, created_by="tests")

    _build = _create


def api_key_for(tenant: Tenant | None) -> CreatedApiKey:
    return ApiKeyFactory.create(tenant=tenant)


# --- WhatsApp rows (tenant schema: create them inside `in_tenant(...)`) -------------------------
# One version of each; areas that need other defaults (fixed simulator ids, an open window, an
# outbound message) subclass these in their own tests/<area>/factories.py or use the traits.


class AccountFactory(factory.django.DjangoModelFactory):
    """An active account; Meta ids and the token come from sequences, so they never collide."""

    class Meta:
        model = WhatsAppAccount

    # Declarations typed Any: area factories override them with plain values.
    display_name: Any = factory.Sequence(lambda n: f"Inbound account {n}")
    waba_id: Any = factory.Sequence(lambda n: f"61{n:011d}")
    app_id = "610000000000001"
    access_token: Any = factory.Sequence(lambda n: Secret(f"EAAinbound-token-{n:04d}"))
    status = WhatsAppAccount.Status.ACTIVE


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    account = factory.SubFactory(AccountFactory)
    phone_number_id: Any = factory.Sequence(lambda n: f"62{n:011d}")
    display_phone_number: Any = factory.Sequence(lambda n: f"1555078{n % 10000:04d}")
    e164_number: Any = factory.LazyAttribute(lambda p: f"+{p.display_phone_number}")
    status = "CONNECTED"
    is_registered = True


class TemplateFactory(factory.django.DjangoModelFactory):
    """An approved UTILITY template with two body variables."""

    class Meta:
        model = MessageTemplate

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"order_update_{n}")
    language = "en_US"
    category = "UTILITY"
    status = "APPROVED"
    components = factory.LazyFunction(
        lambda: [{"type": "BODY", "text": "Hello {{1}}, your order {{2}} is on its way."}]
    )
    variable_count = 2
    parameter_counts = factory.LazyAttribute(lambda t: {"body": t.variable_count})


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    wa_id: Any = factory.Sequence(lambda n: f"4915100{n:06d}")
    profile_name: Any = factory.Sequence(lambda n: f"Customer {n}")
    first_seen_at: Any = factory.LazyFunction(timezone.now)
    last_seen_at: Any = factory.LazyFunction(timezone.now)


class ConversationFactory(factory.django.DjangoModelFactory):
    """`window_open=True`: the customer wrote an hour ago, so the 24-hour window is open."""

    class Meta:
        model = Conversation

    class Params:
        window_open = factory.Trait(
            last_inbound_at=factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1)),
            service_window_expires_at=factory.LazyFunction(lambda: timezone.now() + timedelta(hours=23)),
        )

    contact = factory.SubFactory(ContactFactory)
    phone_number = factory.SubFactory(PhoneNumberFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    """An inbound text message by default; `direction=OUTBOUND` makes it `sent`."""

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
