"""The demo WABA of `make run`: set up through the wizard services against the simulator,
templates approved, idempotent across restarts of the platform and of the simulator."""

from __future__ import annotations

from django_tenants.utils import schema_context

from platform_core.demo import DEMO_SLUG, DEMO_TEMPLATES, demo_simulator_seed, demo_waba_ensure
from tenants.models import MetaApp, MetaRoute, Tenant
from tenants.services import tenant_create
from waba.models import MessageTemplate


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
