"""Two sends at once at the allowance's boundary: exactly one passes.

The allowance check counts the period's messages, then the send inserts one. Without a lock two
concurrent sends could both count N - 1 and both insert. This test runs them on two threads, each
with its own database connection and real commits, with the count slowed down so that both would
be inside the check together; billing's advisory lock makes the second wait for the first's commit.

It needs committed rows, so it works in a tenant of its own (`allowrace`), dropped at the end; the
session's `alpha` and `beta` are not touched. The only flush at teardown is the limiter's tables.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

import billing.limits
from billing.plans.models import Plan, PlanVersion, Subscription
from messaging.models import Message
from platform_core.errors import DomainError
from sending.services import message_send
from tenants.context import connection
from tenants.models import Tenant
from tenants.services import tenant_create, tenant_delete
from tests.billing.factories import plan_version, subscribe
from tests.factories import ConversationFactory, MessageFactory, PhoneNumberFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, available_apps=["sending"])]

SLUG = "allowrace"
LIMIT = 3


@pytest.fixture(scope="module")
def race(django_db_setup, django_db_blocker):
    """The tenant on a plan of LIMIT service messages with LIMIT - 1 used, its number and an open window."""
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"] == settings.DATABASES["default"]["TEST"]["NAME"]
        stale = Tenant.objects.filter(slug=SLUG).first()
        if stale is not None:
            _drop(stale)
        tenant = tenant_create(slug=SLUG, name="Allowance race").tenant
        subscribe(tenant, plan_version("race", included_messages={"service": LIMIT}))
        with schema_context(tenant.schema_name):
            number = PhoneNumberFactory()
            window = ConversationFactory(phone_number=number, window_open=True)
            for _ in range(LIMIT - 1):
                MessageFactory(conversation=window, direction=Message.Direction.OUTBOUND)
        yield tenant, number, window
        connection.set_schema_to_public()
        _drop(tenant)


def _drop(tenant: Tenant) -> None:
    versions = list(PlanVersion.objects.filter(subscriptions__tenant=tenant).values_list("pk", flat=True))
    Subscription.objects.filter(tenant=tenant).delete()
    PlanVersion.objects.filter(pk__in=versions).delete()
    Plan.objects.filter(versions__isnull=True).delete()
    tenant_delete(tenant=tenant, confirm=tenant.slug)


def test_two_concurrent_sends_at_the_boundary_let_exactly_one_through(race, monkeypatch):
    race_tenant, number, window = race
    counted = billing.limits.messages_used

    def slow_count(**kwargs):
        used = counted(**kwargs)
        time.sleep(0.5)  # both sends would be between their count and their insert
        return used

    monkeypatch.setattr(billing.limits, "messages_used", slow_count)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def send() -> None:
        try:
            with schema_context(race_tenant.schema_name):
                start.wait()
                message_send(
                    phone_number_id=number.phone_number_id,
                    to="+" + window.contact.wa_id,
                    content={"type": "text", "text": {"body": "Last one of the month?"}},
                )
            outcomes.append("queued")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["plan_limit_reached", "queued"]
    with schema_context(race_tenant.schema_name):
        assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == LIMIT
