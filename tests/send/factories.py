"""Factories for the send tests: accounts, numbers, templates, contacts, conversations (tenant schema).

Create them inside `in_tenant(...)`. Meta ids come from sequences, so they never collide with
another test's (or another tenant's) in the simulator or the shared limiter.
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from messaging.models import Contact, Conversation
from platform_core.crypto import Secret
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WhatsAppAccount

    display_name = factory.Sequence(lambda n: f"Account {n}")
    waba_id = factory.Sequence(lambda n: f"71{n:011d}")
    app_id = "810000000000001"
    access_token = factory.Sequence(lambda n: Secret(f"EAAsend-token-{n:04d}"))
    status = WhatsAppAccount.Status.ACTIVE


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    account = factory.SubFactory(AccountFactory)
    phone_number_id = factory.Sequence(lambda n: f"72{n:011d}")
    e164_number = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")
    display_phone_number = factory.LazyAttribute(lambda p: p.e164_number)
    throughput_mps = 80
    status = "CONNECTED"
    is_registered = True


class TemplateFactory(factory.django.DjangoModelFactory):
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

    wa_id = factory.Sequence(lambda n: f"49151{n:08d}")
    profile_name = "Customer"


class ConversationFactory(factory.django.DjangoModelFactory):
    """A conversation whose 24-hour window is open (the customer wrote an hour ago)."""

    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    phone_number = factory.SubFactory(PhoneNumberFactory)
    last_inbound_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    service_window_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=23))


def simulator_seed_for(simulator, phone: PhoneNumber, templates=()) -> None:
    """Make the simulator know the number's WABA, its token and templates, as Meta would."""
    account = phone.account
    simulator.seed(
        {
            "wabas": [
                {
                    "id": account.waba_id,
                    "phone_numbers": [
                        {
                            "id": phone.phone_number_id,
                            "display_phone_number": phone.display_phone_number,
                            "throughput": {"level": "HIGH" if phone.throughput_mps > 80 else "STANDARD"},
                        }
                    ],
                }
            ],
            "tokens": [{"token": account.access_token.reveal(), "waba_ids": [account.waba_id]}],
            "templates": [
                {
                    "waba_id": account.waba_id,
                    "name": template.name,
                    "language": template.language,
                    "category": template.category,
                    "components": template.components,
                }
                for template in templates
            ],
        }
    )
