"""The demo WABA of `make run`: set up through the wizard services against the simulator,
templates approved, idempotent across restarts of the platform and of the simulator."""

from __future__ import annotations

from django_tenants.utils import schema_context

from automations.models import CatalogueItem, Workflow
from flows_builder.definitions import BUILTIN_FLOWS
from flows_builder.models import WhatsAppFlow
from flows_builder.services import install_builtin_flows
from platform_core.demo import DEMO_FLOWS, DEMO_SLUG, DEMO_TEMPLATES, demo_simulator_seed, demo_waba_ensure
from tenants.models import MetaApp, MetaRoute, Tenant
from tenants.services import tenant_create
from waba.models import MessageTemplate, WhatsAppAccount


def _seed(simulator) -> None:
    simulator.simulator.reset()
    simulator.seed(demo_simulator_seed())
    simulator.configure(template_review_delay_s=0)


def test_the_demo_waba_is_live_with_approved_templates_and_setting_it_up_again_is_harmless(graph_simulator, db):
    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first() or tenant_create(slug=DEMO_SLUG, name="Demo").tenant
    _seed(graph_simulator)

    first = demo_waba_ensure(review_wait_s=5)

    assert first.set_up_now and first.status == "active"
    assert first.templates == sorted((t["name"], "APPROVED") for t in DEMO_TEMPLATES)
    assert first.callback_url.endswith("/webhooks/whatsapp/100000000000042")
    assert MetaRoute.objects.filter(tenant=tenant).count() == 2
    assert MetaApp.objects.get(app_id="100000000000042").tenant_id == tenant.id
    subscribed = graph_simulator.requests(path_contains="subscribed_apps", method="POST")
    assert [r["object_id"] for r in subscribed] == ["200000000000042"]

    again = demo_waba_ensure(review_wait_s=5)
    assert not again.set_up_now and again.account_id == first.account_id
    assert len(graph_simulator.requests(path_contains="subscribed_apps", method="POST")) == 1
    with schema_context(tenant.schema_name):
        assert MessageTemplate.objects.count() == len(DEMO_TEMPLATES)
        counts = dict(MessageTemplate.objects.values_list("name", "variable_count"))
    assert counts == {"order_confirmation": 2, "welcome_offer": 1, "pickup_ready": 0}

    _seed(graph_simulator)  # the simulator restarted and forgot the templates
    after_restart = demo_waba_ensure(review_wait_s=5)
    assert after_restart.templates == first.templates
    assert len(graph_simulator.state.snapshot()["templates"]) == len(DEMO_TEMPLATES)


def test_the_demo_coffee_shop_gets_the_coffee_menus_and_only_the_flows_that_suit_it(graph_simulator, db):
    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first() or tenant_create(slug=DEMO_SLUG, name="Demo").tenant
    _seed(graph_simulator)

    demo_waba_ensure(review_wait_s=5)

    with schema_context(tenant.schema_name):
        flows = set(WhatsAppFlow.objects.values_list("name", flat=True))
        workflows = set(Workflow.objects.values_list("name", flat=True))
        products = set(CatalogueItem.objects.values_list("name", flat=True))
    assert flows == set(DEMO_FLOWS) == {"date_picker", "starlink_installation"}
    assert not any("solar" in name for name in flows)
    assert {"main_menu", "new_order", "order_tracking", "support"} <= workflows
    assert "Coffee" in products
    # The other built-in flows stay available to any tenant.
    with schema_context(tenant.schema_name):
        account = WhatsAppAccount.objects.get(waba_id=demo_simulator_seed()["wabas"][0]["id"])
        installed = {flow.name for flow in install_builtin_flows(account)}
    assert installed == set(BUILTIN_FLOWS) - set(DEMO_FLOWS)
