"""One menu reply through the engine costs a handful of statements: inbound storage, the
automation and send queueing of one tapped option, counted with every statement sent
(`SET search_path`, savepoints and releases included)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime

import pytest
from django.db import transaction

from automations.models import AutomationRun, ConversationState
from messaging.inbound import inbound_message_store
from messaging.models import Contact, Message
from tests.messaging.factories import ContactFactory
from waba.webhook_events import InboundMessage

# 49 measured, and a little room: the search path is set once per schema switch
# (TENANT_LIMIT_SET_CALLS), and the engine claims the message in one statement, adds no savepoint
# of its own under the signal's and writes the state it holds locked without reading it again.
# The reply reads the workspace's subscription once for the plan's limits and prepaid balance.
# The steps the message led through are recorded in one INSERT (`WorkflowStepVisit`).
MENU_REPLY_MAX_STATEMENTS = 52


def _inbound(number, wamid: str, kind: str, content: dict) -> InboundMessage:
    return InboundMessage(
        phone_number_id=number.phone_number_id, display_phone_number=number.display_phone_number,
        waba_id=number.account.waba_id, wa_id="4915100000001", profile_name="Ada", wamid=wamid,
        timestamp=datetime.now(tz=UTC), type=kind, content=content, context=None, raw={},
    )


def test_a_tapped_menu_option_is_answered_within_the_statement_budget(
    tenant_a, in_tenant, number_a, builtins_a, django_assert_max_num_queries
):
    with in_tenant(tenant_a):
        inbound_message_store(event=_inbound(number_a, "wamid.qc-hi", "text", {"body": "Hi"}), phone_number=number_a)
        tap = _inbound(number_a, "wamid.qc-tap", "interactive",
                       {"kind": "button_reply", "id": "place_order", "title": "Place Order"})

        with django_assert_max_num_queries(MENU_REPLY_MAX_STATEMENTS):
            stored = inbound_message_store(event=tap, phone_number=number_a)

        assert stored.created and stored.dispatch_failures == 0
        run = AutomationRun.objects.get(message=stored.message)
        assert (run.outcome, run.workflow_name) == ("advanced", "new_order")
        reply = Message.objects.filter(direction=Message.Direction.OUTBOUND).latest("id")
        assert reply.status == Message.Status.QUEUED
        assert reply.request_payload["interactive"]["type"] == "list"
        state = ConversationState.objects.get(status=ConversationState.Status.ACTIVE)
        assert (state.workflow_name, state.last_processed_wamid) == ("new_order", "wamid.qc-tap")


def test_with_the_search_path_set_once_each_tenant_still_sees_only_its_own_rows(tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        ContactFactory(wa_id="4915100000011")
    with in_tenant(tenant_b):
        ContactFactory(wa_id="4915100000022")

    with in_tenant(tenant_a), ExitStack() as switched:
        seen_in_a = list(Contact.objects.values_list("wa_id", flat=True))
        with pytest.raises(RuntimeError), transaction.atomic():
            switched.enter_context(in_tenant(tenant_b))  # the switch to beta's path happens inside the savepoint
            seen_in_b = list(Contact.objects.values_list("wa_id", flat=True))
            raise RuntimeError
        # Rolling back to the savepoint undid the SET issued inside it: the next statement sets it again.
        seen_in_b_after_rollback = list(Contact.objects.values_list("wa_id", flat=True))

    assert seen_in_a == ["4915100000011"]
    assert seen_in_b == seen_in_b_after_rollback == ["4915100000022"]
