"""Each built-in WhatsApp Flow's link resolves once the tenant has installed the built-in
conversational flows (automations' seeds); another tenant without them still gets the warning."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from automations.seeds import builtins_install
from flows_builder.definitions import BUILTIN_FLOWS
from flows_builder.links import flow_link_warnings
from tests.flows_builder.factories import WhatsAppAccountFactory, WhatsAppFlowFactory

LINKED = sorted(name for name, definition in BUILTIN_FLOWS.items() if definition.flow_definition_name)


def test_every_builtin_flow_but_the_date_picker_names_a_conversational_flow():
    assert LINKED == ["solar_installation", "solar_panel_cleaning", "starlink_installation", "tour_inquiry"]
    assert {BUILTIN_FLOWS[name].flow_definition_name for name in LINKED} == {
        "starlink_installation", "solar_cleaning", "solar_installation", "tour_inquiry"}


@pytest.mark.parametrize("definition", LINKED)
def test_the_builtins_resolve_each_flows_link(tenant_a, tenant_b, in_tenant, alpha_account, definition):
    with in_tenant(tenant_a):
        builtins_install()
        flow = WhatsAppFlowFactory(account=alpha_account, definition=definition)
        assert flow_link_warnings(flow=flow) == []
    with in_tenant(tenant_b):
        outsider = WhatsAppFlowFactory(account=WhatsAppAccountFactory(waba_id="200000000000999"),
                                       definition=definition)
        assert flow_link_warnings(flow=outsider) == [
            f"linked conversational flow '{BUILTIN_FLOWS[definition].flow_definition_name}' does not exist"]


def test_syncing_the_builtin_flows_after_installing_the_builtins_warns_of_nothing(
    sim, tenant_a, in_tenant, alpha_account
):
    with in_tenant(tenant_a):
        builtins_install()
        for name in BUILTIN_FLOWS:
            WhatsAppFlowFactory(account=alpha_account, definition=name)
    out = StringIO()

    call_command("sync_whatsapp_flows", "--tenant", "alpha", stdout=out)

    output = out.getvalue()
    assert not [line for line in output.splitlines() if "warning:" in line]
    assert output.strip().splitlines()[-1] == (
        "Summary: 5 flow(s) in 1 tenant(s): 5 created, 0 new version(s), 5 uploaded, 0 published, "
        "0 unchanged, 0 failed, 0 warning(s)."
    )
