"""`manage.py sync_whatsapp_flows`: prefix match, publish, per-flow lines, summary, failures isolated."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from flows_builder.models import WhatsAppFlow
from tests.flows_builder.factories import WhatsAppAccountFactory, WhatsAppFlowFactory


def run(*args: str) -> str:
    out = StringIO()
    call_command("sync_whatsapp_flows", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def alpha_flows(tenant_a, in_tenant, alpha_account):
    with in_tenant(tenant_a):
        return {
            name: WhatsAppFlowFactory(account=alpha_account, definition=name)
            for name in ("starlink_installation", "solar_installation", "solar_panel_cleaning", "date_picker")
        }


def test_prefix_match_syncs_only_matching_flows_and_publishes(sim, tenant_a, in_tenant, alpha_flows):
    output = run("--tenant", "alpha", "--flow", "SOLAR", "--publish")

    lines = output.strip().splitlines()
    assert lines[0].startswith("[alpha] solar_installation: created, uploaded, published (meta id ")
    assert (
        lines[1]
        == "[alpha] solar_installation: warning: linked conversational flow 'solar_installation' does not exist"
    )
    assert lines[2].startswith("[alpha] solar_panel_cleaning: created, uploaded, published")
    assert lines[3].endswith("linked conversational flow 'solar_cleaning' does not exist")
    assert lines[-1] == (
        "Summary: 2 flow(s) in 1 tenant(s): 2 created, 0 new version(s), 2 uploaded, 2 published, "
        "0 unchanged, 0 failed, 2 warning(s)."
    )
    with in_tenant(tenant_a):
        statuses = dict(WhatsAppFlow.objects.values_list("name", "sync_status"))
    assert statuses == {
        "solar_installation": "published",
        "solar_panel_cleaning": "published",
        "starlink_installation": "draft",
        "date_picker": "draft",
    }
    assert {flow.name for flow in sim.state.flows.values()} == {"solar_installation", "solar_panel_cleaning"}

    again = run("--tenant", "alpha", "--flow", "solar")
    assert "[alpha] solar_installation: unchanged (meta id" in again
    assert "2 unchanged, 0 failed" in again


def test_all_tenants_one_failure_does_not_stop_the_others(sim, tenant_a, tenant_b, in_tenant, alpha_flows):
    with in_tenant(tenant_b):
        beta_account = WhatsAppAccountFactory(waba_id="200000000000999", access_token="EAAunknown-beta-9999")
        WhatsAppFlowFactory(account=beta_account, definition="date_picker")
    with in_tenant(tenant_a):
        WhatsAppFlow.objects.filter(name="solar_installation").update(is_active=False)

    out = StringIO()
    with pytest.raises(CommandError, match="1 flow\\(s\\) failed"):
        call_command("sync_whatsapp_flows", stdout=out)
    output = out.getvalue()

    assert "[alpha] starlink_installation: created, uploaded" in output
    assert "[alpha] date_picker: created, uploaded" in output
    assert "solar_installation" not in output.replace("'solar_installation'", "")  # inactive: skipped
    assert "[beta] date_picker: FAILED graph_error:" in output
    assert "EAAunknown" not in output
    assert "Summary: 4 flow(s) in 2 tenant(s): 3 created" in output and "1 failed" in output
    with in_tenant(tenant_b):
        assert WhatsAppFlow.objects.get(name="date_picker").sync_status == "error"


def test_unknown_tenant_is_refused(db):
    with pytest.raises(CommandError, match="No active tenant with slug 'nope'"):
        run("--tenant", "nope")
