"""`manage.py sandbox_account <tenant>`: a healthy account for any tenant against the simulator."""

from __future__ import annotations

import socket
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from analytics.health import account_health_check
from graph_simulator import spawn_simulator
from tenants.models import MetaApp, MetaRoute
from waba.models import PhoneNumber, WhatsAppAccount
from waba.services.accounts import account_mark_unhealthy
from waba.services.credentials import secret_value
from waba.services.sandbox import sandbox_ids


def run(*args: str) -> str:
    out = StringIO()
    call_command("sandbox_account", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_it_sets_up_a_healthy_account_in_that_tenant_only(graph_simulator, tenant_a, tenant_b, in_tenant, settings):
    ids = sandbox_ids(tenant=tenant_a)

    output = run(tenant_a.domains.get(is_primary=True).domain)

    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get()
        assert (account.waba_id, account.app_id, account.status) == (ids.waba_id, ids.app_id, "active")
        number = PhoneNumber.objects.get()
        assert (number.phone_number_id, number.e164_number) == (ids.phone_number_id, ids.phone_number)
        assert account.setup_completed_steps == [1, 2, 3, 4, 5, 6]
        log = account_health_check(account=account)
        assert log.healthy is True, log.findings
        token = secret_value(account.access_token)
    with in_tenant(tenant_b):
        assert not WhatsAppAccount.objects.exists()
    assert set(MetaRoute.objects.filter(external_id__in=[ids.waba_id, ids.phone_number_id]).values_list("tenant", flat=True)) == {
        tenant_a.id
    }
    app = MetaApp.objects.get(app_id=ids.app_id)
    assert app.tenant_id == tenant_a.id
    # The simulator knows the business under the same ids and token, signs its webhooks with the
    # secret the platform checks them with, posts them to the app's callback URL, and was subscribed.
    state = graph_simulator.state.snapshot()
    assert [(a["app_id"], a["app_secret"], a["webhook_url"]) for a in state["apps"]] == [
        (ids.app_id, secret_value(app.app_secret), f"{settings.PUBLIC_BASE_URL}/webhooks/whatsapp/{ids.app_id}")
    ]
    assert [waba["id"] for waba in state["wabas"]] == [ids.waba_id]
    assert [(t["token"], t["waba_ids"]) for t in state["tokens"]] == [(token, [ids.waba_id])]
    assert [r["object_id"] for r in graph_simulator.requests(path_contains="subscribed_apps", method="POST")] == [
        ids.waba_id
    ]
    assert f"Sandbox account {account.pk} of tenant 'alpha' is active" in output
    assert "/_sim/inject/message" in output and ids.phone_number_id in output
    assert token not in output


def test_running_it_again_heals_an_account_the_simulator_forgot(graph_simulator, tenant_a, in_tenant):
    run("alpha")
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get()
        token = secret_value(account.access_token)
    graph_simulator.simulator.reset()  # a simulator restarted without its state file
    with in_tenant(tenant_a):
        assert account_health_check(account=account).healthy is False
        account_mark_unhealthy(account=account, reason="Access token invalid", code=190)

    output = run(tenant_a.schema_name)

    with in_tenant(tenant_a):
        again = WhatsAppAccount.objects.get()
        assert (again.pk, again.status, secret_value(again.access_token)) == (account.pk, "active", token)
        assert account_health_check(account=again).healthy is True
    assert "set up before, checked again" in output


def test_each_tenant_gets_its_own_sandbox_business(graph_simulator, tenant_a, tenant_b, in_tenant):
    run("alpha")
    run("beta")

    alpha, beta = sandbox_ids(tenant=tenant_a), sandbox_ids(tenant=tenant_b)
    assert len({alpha.waba_id, beta.waba_id}) == 2 and len({alpha.phone_number_id, beta.phone_number_id}) == 2
    with in_tenant(tenant_b):
        assert WhatsAppAccount.objects.get().waba_id == beta.waba_id
    with in_tenant(tenant_a):
        assert WhatsAppAccount.objects.get().waba_id == alpha.waba_id


def test_an_unknown_tenant_is_a_clear_error(graph_simulator, tenant_a):
    with pytest.raises(CommandError) as raised:
        run("nope")

    message = str(raised.value)
    assert "No tenant 'nope'" in message and "alpha" in message and "tenant_not_found" in message
    assert graph_simulator.requests() == []


def test_no_simulator_says_start_it_with_make_run(settings, closed_port_url, tenant_a, in_tenant):
    settings.GRAPH_API_BASE_URL = closed_port_url

    with pytest.raises(CommandError, match="start it with `make run`"):
        run("alpha")

    with in_tenant(tenant_a):
        assert not WhatsAppAccount.objects.exists()


def test_it_never_runs_against_meta(settings, tenant_a):
    """With GRAPH_API_BASE_URL left at Meta's, the simulator `make run` starts is the only target."""
    settings.GRAPH_API_BASE_URL = "https://graph.facebook.com"
    settings.SIMULATOR_PORT = 9  # nothing listens there

    with pytest.raises(CommandError, match="No Graph API simulator answers at http://127.0.0.1:9"):
        run("alpha")


@pytest.mark.slow
def test_the_account_stays_healthy_after_the_simulator_restarts(tmp_path, settings, tenant_a, in_tenant):
    """What `make run` does: the simulator process stops and starts again with its state file."""
    state_file = ["--state-file", str(tmp_path / "simulator-state.json")]
    with spawn_simulator(extra_args=state_file) as first:
        settings.GRAPH_API_BASE_URL = first.base_url
        run("alpha")

    with spawn_simulator(extra_args=state_file) as second:
        settings.GRAPH_API_BASE_URL = second.base_url
        with in_tenant(tenant_a):
            account = WhatsAppAccount.objects.get()
            log = account_health_check(account=account)

    assert log.healthy is True, log.findings
    assert account.status == "active"
