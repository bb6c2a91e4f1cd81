"""The console's data-exchange form of a Flow: forward to the tenant's URL (secret shown once) or
static answers, validation errors on the page, roll and remove; another workspace's flow is 404."""

from __future__ import annotations

import json
import re

import pytest

from flows_builder.models import FlowExchangeConfig
from tests.console.test_accounts import _foreign_ids, account  # noqa: F401  (fixture)
from tests.console.test_auth import _csrf
from tests.console.test_roles import role_client
from tests.flows_builder.factories import WhatsAppFlowFactory
from tests.flows_builder.test_endpoint import ENDPOINT_FLOW_JSON


@pytest.fixture
def flow(account, tenant_a, in_tenant):  # noqa: F811
    with in_tenant(tenant_a):
        return WhatsAppFlowFactory.create(
            account=account, name="tenant_booking", flow_json=ENDPOINT_FLOW_JSON, endpoint_enabled=True
        )


def page_of(flow) -> str:
    return f"/app/accounts/{flow.account_id}/flows/{flow.pk}/data-exchange/"


def save(client, flow, **fields):
    page = page_of(flow)
    return client.post(page, {"csrfmiddlewaretoken": _csrf(client, page), **fields})


def test_the_account_page_links_each_endpoint_flow_to_its_form(console_a, flow):
    body = console_a.get(f"/app/accounts/{flow.account_id}/").content.decode()
    assert f'href="{page_of(flow)}"' in body
    page = console_a.get(page_of(flow)).content.decode()
    assert "Nothing answers this flow's requests yet" in page


def test_forwarding_shows_the_secret_once(console_a, flow, tenant_a, in_tenant, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = True
    response = save(console_a, flow, mode="forward", url="http://127.0.0.1:8000/flows")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.content.decode()
    [secret] = re.findall(r'value="(whsec_[^"]+)"', body)
    assert "shown only once" in body
    with in_tenant(tenant_a):
        config = FlowExchangeConfig.objects.get(flow=flow)
    assert config.mode == "forward" and config.secret.reveal() == secret

    again = console_a.get(page_of(flow)).content.decode()
    assert secret not in again and "http://127.0.0.1:8000/flows" in again

    rolled = console_a.post(
        page_of(flow) + "roll-secret/", {"csrfmiddlewaretoken": _csrf(console_a, page_of(flow))}
    )
    [new_secret] = re.findall(r'value="(whsec_[^"]+)"', rolled.content.decode())
    assert new_secret != secret and "previous secret keeps signing" in rolled.content.decode()


def test_a_private_url_is_refused_on_the_form(console_a, flow, settings, tenant_a, in_tenant):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = False
    response = save(console_a, flow, mode="forward", url="https://10.1.2.3/flows")
    assert response.status_code == 200
    assert "resolves to an address that is not public" in response.content.decode()
    with in_tenant(tenant_a):
        assert not FlowExchangeConfig.objects.exists()


def test_static_answers_are_saved_and_bad_ones_explained(console_a, flow, tenant_a, in_tenant):
    bad = save(console_a, flow, mode="static", static_screens=json.dumps({"NOWHERE": {"screen": "X"}}))
    assert "static_screens.NOWHERE not a screen of this flow" in bad.content.decode()
    answers = {"INIT": {"screen": "PICK_DATE", "data": {"dates": []}}}
    good = save(console_a, flow, mode="static", static_screens=json.dumps(answers))
    assert good.status_code == 302
    assert "data exchange saved" in console_a.get(good.url).content.decode()
    with in_tenant(tenant_a):
        assert FlowExchangeConfig.objects.get(flow=flow).static_screens == answers

    removed = console_a.post(
        page_of(flow) + "remove/", {"csrfmiddlewaretoken": _csrf(console_a, page_of(flow))}
    )
    assert removed.status_code == 302
    with in_tenant(tenant_a):
        assert not FlowExchangeConfig.objects.exists()


def test_another_workspaces_flow_is_not_found(console_a, flow, tenant_a, tenant_b, in_tenant):
    account_id, flow_id = _foreign_ids(tenant_a, tenant_b, in_tenant)
    foreign = f"/app/accounts/{account_id}/flows/{flow_id}/data-exchange/"
    assert console_a.get(foreign).status_code == 404
    mixed = f"/app/accounts/{flow.account_id}/flows/{flow_id}/data-exchange/"
    assert console_a.get(mixed).status_code == 404
    token = _csrf(console_a, page_of(flow))
    for path in (foreign, foreign + "roll-secret/", foreign + "remove/"):
        response = console_a.post(path, {"csrfmiddlewaretoken": token, "mode": "static"})
        assert response.status_code == 404, path


def test_a_viewer_sees_the_form_but_cannot_change_it(flow, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        viewer = role_client(tenant_a, "viewer")
        agent = role_client(tenant_a, "agent")
    assert viewer.get(page_of(flow)).status_code == 200
    assert agent.get(page_of(flow)).status_code == 403
    for path in (page_of(flow), page_of(flow) + "roll-secret/", page_of(flow) + "remove/"):
        assert viewer.post(path, {"mode": "static", "static_screens": "{}"}).status_code == 403, path
    with in_tenant(tenant_a):
        assert not FlowExchangeConfig.objects.exists()
