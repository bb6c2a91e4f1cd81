"""Fixtures of the knowledge-base tests: a small FAQ of a coffee shop in alpha, the base switched on."""

from __future__ import annotations

import pytest

from knowledge.services import faq_entry_create, knowledge_settings_update

FAQ = [
    {
        "question": "What are your opening hours?",
        "variants": ["When are you open?", "opening times"],
        "answer": "We are open Monday to Saturday, 8:00 to 18:00.",
        "tags": ["hours"],
    },
    {
        "question": "Do you deliver?",
        "variants": ["Do you ship to my area?", "home delivery"],
        "answer": "We deliver within 5 km for orders over 20 EUR.",
        "tags": ["delivery"],
    },
    {
        "question": "How can I pay?",
        "variants": ["Do you accept credit cards?", "payment methods"],
        "answer": "Cash, cards and MB Way.",
        "tags": ["payment"],
    },
    {
        "question": "Where are you located?",
        "variants": ["What is your address?"],
        "answer": "Rua das Flores 12, Porto.",
        "tags": ["address"],
    },
    {
        "question": "¿Cuál es el horario de apertura?",
        "variants": ["¿A qué hora abren?"],
        "language": "es",
        "answer": "Abrimos de lunes a sábado, de 8:00 a 18:00.",
        "tags": ["hours"],
    },
]


@pytest.fixture
def faq_a(tenant_a, in_tenant):
    """Alpha's FAQ entries (in FAQ's order), the knowledge base on."""
    with in_tenant(tenant_a):
        entries = [faq_entry_create(**entry) for entry in FAQ]
        knowledge_settings_update(enabled=True)
    return entries


@pytest.fixture
def clock():
    from tests.automations.conftest import Clock

    return Clock()


@pytest.fixture
def customer_a(tenant_a, in_tenant, number_a, clock):
    """A customer of alpha's number; `customer_a.says("...")` runs the engine and returns the replies."""
    from tests.automations.factories import Customer
    from tests.messaging.factories import ContactFactory

    with in_tenant(tenant_a):
        contact = ContactFactory.create(wa_id="4915112345678", profile_name="Ada")
    return Customer(tenant=tenant_a, number=number_a, contact=contact, clock=clock)


def _console(tenant, in_tenant, username: str):
    """The tenant's console, logged in as a new owner (the session lives in the tenant's schema)."""
    from django.contrib.auth.models import User

    from tests.conftest import host_of
    from tests.console.conftest import console_client, owner_make

    with in_tenant(tenant):
        user = owner_make(User.objects.create_user(username, password="correct horse battery staple"))
        return console_client(host_of(tenant), user)


@pytest.fixture
def console_a(tenant_a, in_tenant):
    return _console(tenant_a, in_tenant, "ana")


@pytest.fixture
def console_b(tenant_b, in_tenant):
    return _console(tenant_b, in_tenant, "bruno")
