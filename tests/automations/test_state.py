"""Conversation state: one active per contact and number, merge, end, expiry (frozen clock), clean-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from automations.models import ConversationState, Workflow
from automations.selectors import conversation_state_list
from automations.services import (
    conversation_state_end,
    conversation_state_start,
    conversation_state_update,
    conversation_states_expire,
)
from automations.services.state import conversation_state_active
from messaging.models import Message


@pytest.fixture
def workflow_a(tenant_a, in_tenant, builtins_a):
    with in_tenant(tenant_a):
        return Workflow.objects.get(name="new_order")


def test_start_replaces_the_active_state_and_update_merges(tenant_a, in_tenant, customer_a, workflow_a, clock):
    contact, number = customer_a.contact, customer_a.number
    with in_tenant(tenant_a):
        first = conversation_state_start(contact=contact, phone_number=number, workflow=workflow_a,
                                         step="choose_product", context={"a": 1}, now=clock.now)
        assert first.expires_at == clock.now + timedelta(minutes=30)

        clock.advance(minutes=5)
        updated = conversation_state_update(state=first, step="ask_quantity", context={"b": 2, "a": None},
                                            now=clock.now)
        assert (updated.current_step, updated.context) == ("ask_quantity", {"b": 2})
        assert updated.expires_at == clock.now + timedelta(minutes=30)

        second = conversation_state_start(contact=contact, phone_number=number, workflow=workflow_a,
                                          step="choose_product", now=clock.now)
        first.refresh_from_db()
        assert first.status == "replaced" and first.ended_at == clock.now
        assert conversation_state_active(contact=contact, phone_number=number, now=clock.now) == second

        conversation_state_end(state=second, status="cancelled", now=clock.now)
        assert conversation_state_active(contact=contact, phone_number=number, now=clock.now) is None


@pytest.mark.parametrize("minutes_later, closed_as", [(5, "replaced"), (31, "expired")])
def test_starting_over_a_state_the_caller_holds_closes_it_and_inserts_the_new_one(
    tenant_a, in_tenant, customer_a, workflow_a, clock, minutes_later, closed_as
):
    contact, number = customer_a.contact, customer_a.number
    with in_tenant(tenant_a), transaction.atomic():
        first = conversation_state_start(contact=contact, phone_number=number, workflow=workflow_a,
                                         step="ask_quantity", context={"a": 1}, now=clock.now)
        clock.advance(minutes=minutes_later)
        held = ConversationState.objects.select_for_update().get(pk=first.pk)

        second = conversation_state_start(contact=contact, phone_number=number, workflow=workflow_a,
                                          step="choose_product", context={"b": 2}, now=clock.now,
                                          processed_wamid="wamid.2", replacing=held, replacing_known=True)

        assert (held.status, held.ended_at) == (closed_as, clock.now)  # the caller's copy says so too
        first.refresh_from_db()
        assert (first.status, first.ended_at) == (closed_as, clock.now)
        stored = ConversationState.objects.get(pk=second.pk)
        assert stored == conversation_state_active(contact=contact, phone_number=number, now=clock.now)
        assert (stored.current_step, stored.context, stored.last_processed_wamid) == (
            "choose_product", {"b": 2}, "wamid.2"
        )
        assert (stored.started_at, stored.expires_at) == (clock.now, clock.now + timedelta(minutes=30))
        assert (stored.workflow_id, stored.workflow_version, stored.failed_attempts) == (workflow_a.pk, workflow_a.version, 0)
        assert ConversationState.objects.filter(contact=contact, status="active").count() == 1


def test_the_database_refuses_two_active_states(tenant_a, in_tenant, customer_a, workflow_a, clock):
    with in_tenant(tenant_a):
        conversation_state_start(contact=customer_a.contact, phone_number=customer_a.number, workflow=workflow_a,
                                 step="choose_product", now=clock.now)
        with pytest.raises(IntegrityError), transaction.atomic():
            ConversationState.objects.create(
                contact=customer_a.contact, phone_number=customer_a.number, workflow_name="x", current_step="y",
                expires_at=clock.now + timedelta(minutes=30),
            )


def test_expired_states_read_as_absent_and_the_clean_up_closes_them(
    tenant_a, in_tenant, customer_a, workflow_a, clock
):
    contact, number = customer_a.contact, customer_a.number
    with in_tenant(tenant_a):
        state = conversation_state_start(contact=contact, phone_number=number, workflow=workflow_a,
                                         step="ask_quantity", now=clock.now)
        clock.advance(minutes=29, seconds=59)
        assert conversation_state_active(contact=contact, phone_number=number, now=clock.now) == state
        assert list(conversation_state_list(active=True, now=clock.now)) == [state]
        assert conversation_states_expire(now=clock.now) == 0

        clock.advance(seconds=1)
        assert conversation_state_active(contact=contact, phone_number=number, now=clock.now) is None
        # The state list (API, admin) reads the same rule: expired before the clean-up ran.
        assert list(conversation_state_list(active=False, now=clock.now)) == [state]
        assert conversation_states_expire(now=clock.now) == 1
        state.refresh_from_db()
        assert (state.status, state.ended_at) == ("expired", clock.now)

        # Closed states are kept for a while, then deleted.
        assert conversation_states_expire(now=clock.now + timedelta(days=29)) == 0
        assert ConversationState.objects.filter(pk=state.pk).exists()
        conversation_states_expire(now=clock.now + timedelta(days=31))
        assert not ConversationState.objects.filter(pk=state.pk).exists()


def test_the_account_sets_how_long_a_state_lives(tenant_a, in_tenant, customer_a, workflow_a, clock):
    account = customer_a.number.account
    with in_tenant(tenant_a):
        account.conversation_state_ttl_minutes = 5
        account.save()
        state = conversation_state_start(contact=customer_a.contact, phone_number=customer_a.number,
                                         workflow=workflow_a, step="ask_quantity", now=clock.now)
        assert state.expires_at == clock.now + timedelta(minutes=5)


def test_after_30_minutes_of_silence_the_conversation_starts_fresh(tenant_a, in_tenant, builtins_a, customer_a,
                                                                   clock):
    customer_a.says("Hi")
    customer_a.taps("place_order", "Place Order")
    with in_tenant(tenant_a):
        coffee = next(o["id"] for o in ConversationState.objects.get(status="active").context["_offered"]
                      if o["title"] == "Coffee")
    customer_a.taps(coffee, "Coffee", row=True)

    clock.advance(minutes=30, seconds=1)
    # The quantity no longer answers anything: no summary, no order.
    assert [reply.purpose for reply in customer_a.says("2")] == []

    [menu] = customer_a.says("Hi")

    assert menu.workflow == "main_menu" and menu.step == "menu"
    with in_tenant(tenant_a):
        assert ConversationState.objects.get(workflow_name="new_order").status == "expired"
        fresh = ConversationState.objects.get(status="active")
        assert (fresh.workflow_name, fresh.current_step) == ("main_menu", "menu")
        assert set(fresh.context) == {"_offered"}
        assert fresh.expires_at == clock.now + timedelta(minutes=30)
        assert not Message.objects.filter(direction="out", body__contains="Coffee × 2").exists()


def test_29_minutes_later_the_conversation_goes_on(tenant_a, in_tenant, builtins_a, customer_a, clock):
    customer_a.says("Hi")
    [products] = customer_a.taps("place_order", "Place Order")
    coffee = products.content["interactive"]["action"]["sections"][0]["rows"][0]["id"]
    customer_a.taps(coffee, "Coffee", row=True)

    clock.advance(minutes=29)
    [summary] = customer_a.says("2")

    assert "Coffee × 2 = 240" in summary.text
