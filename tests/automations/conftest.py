"""Fixtures of the automation tests: a number with the built-ins installed, a customer who writes to it,
and a clock the tests move by hand (nothing sleeps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from automations.seeds import builtins_install
from tests.automations.factories import Customer
from tests.messaging.factories import ContactFactory


@dataclass
class Clock:
    now: datetime = field(default_factory=timezone.now)

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def builtins_a(tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        return builtins_install()


@pytest.fixture
def customer_a(tenant_a, in_tenant, number_a, clock) -> Customer:
    """A customer of alpha's number; `customer_a.says("Hi")` runs the engine and returns the replies."""
    with in_tenant(tenant_a):
        contact = ContactFactory.create(wa_id="4915112345678", profile_name="Ada")
    return Customer(tenant=tenant_a, number=number_a, contact=contact, clock=clock)
