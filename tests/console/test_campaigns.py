"""Console campaign pages: compose with the pre-check, create, watch the figures, pause, resume, cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from broadcasts.models import Broadcast
from contacts.models import Segment
from messaging.models import Message
from tests.console.test_auth import _csrf
from tests.sending.factories import ContactFactory, TemplateFactory


@pytest.fixture
def vips(tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        number_a.messaging_limit_tier = "TIER_250"
        number_a.save(update_fields=["messaging_limit_tier"])
        number_a.account.timezone = "Europe/Berlin"
        number_a.account.save(update_fields=["timezone"])
        for i in range(3):
            ContactFactory(wa_id=f"4915100000{i:03d}", profile_name=f"Vip {i}", tags=["vip"])
        template = TemplateFactory(account=number_a.account, name="winter_sale")
        segment = Segment.objects.create(
            name="VIPs", definition={"match": "all", "conditions": [{"kind": "tags", "operator": "has_any", "value": ["vip"]}]}
        )
    return template, segment


def form(number, template, segment, token, **extra):
    return {
        "csrfmiddlewaretoken": token,
        "name": "Winter sale",
        "phone_number_id": number.phone_number_id,
        "audience": "segment",
        "segment": str(segment.pk),
        "a-template": str(template.pk),
        "a-body-0-source": "name",
        "a-body-0-value": "there",
        "a-body-1-source": "text",
        "a-body-1-value": "WINTER10",
        "when": "later",
        "send_at": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:00"),
        "timezone": "Europe/Berlin",
        "over_limit": "refuse",
        **extra,
    }


def test_choosing_a_template_shows_a_row_per_variable(console_a, number_a, vips):
    template, segment = vips
    token = _csrf(console_a, "/app/campaigns/new/")
    page = console_a.post(
        "/app/campaigns/new/",
        {"csrfmiddlewaretoken": token, "action": "reload", "phone_number_id": number_a.phone_number_id, "a-template": str(template.pk)},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="a-body-0-source"' in html and 'name="a-body-1-source"' in html and 'name="a-body-2-source"' not in html
    assert "Hello {{1}}, your order {{2}} is on its way." in html


def test_check_shows_the_precheck_and_writes_nothing(console_a, tenant_a, in_tenant, number_a, vips):
    template, segment = vips
    token = _csrf(console_a, "/app/campaigns/new/")
    page = console_a.post("/app/campaigns/new/", form(number_a, template, segment, token, action="check"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-figure="sendable">3<' in html
    assert "250 new users per 24 h (TIER_250)" in html
    assert "It fits within the number" in html
    with in_tenant(tenant_a):
        assert not Broadcast.objects.exists()


def test_create_schedules_it_and_the_detail_page_shows_its_figures(console_a, tenant_a, in_tenant, number_a, vips):
    template, segment = vips
    token = _csrf(console_a, "/app/campaigns/new/")
    response = console_a.post("/app/campaigns/new/", form(number_a, template, segment, token, action="create"))
    assert response.status_code == 302
    with in_tenant(tenant_a):
        campaign = Broadcast.objects.get()
        assert campaign.created_by == "ana" and campaign.timezone == "Europe/Berlin"
        assert Message.objects.filter(status="queued").count() == 3
    detail = console_a.get(response["Location"]).content.decode()
    assert 'data-state="scheduled"' in detail
    assert "09:00" in detail and "Segment VIPs" in detail
    assert 'data-figure="queued">3<' in detail
    listing = console_a.get("/app/campaigns/").content.decode()
    assert "Winter sale" in listing and "Scheduled" in listing


def test_errors_are_shown_and_nothing_is_created(console_a, tenant_a, in_tenant, number_a, vips):
    template, segment = vips
    token = _csrf(console_a, "/app/campaigns/new/")
    past = form(number_a, template, segment, token, action="create", send_at="2020-01-01T09:00")
    page = console_a.post("/app/campaigns/new/", past)
    assert page.status_code == 422
    assert "send_at: 2020-01-01 09:00 (Europe/Berlin) is in the past" in page.content.decode()
    with in_tenant(tenant_a):
        for i in range(300):
            ContactFactory(wa_id=f"4915200000{i:03d}", tags=["vip"])
    too_many = console_a.post("/app/campaigns/new/", form(number_a, template, segment, token, action="create"))
    html = too_many.content.decode()
    assert too_many.status_code == 422
    assert "Spread it over 2 days" in html and 'data-figure="days">2' in html
    with in_tenant(tenant_a):
        assert not Broadcast.objects.exists()


def test_pause_resume_and_cancel_from_the_page(console_a, tenant_a, in_tenant, number_a, vips):
    template, segment = vips
    token = _csrf(console_a, "/app/campaigns/new/")
    location = console_a.post("/app/campaigns/new/", form(number_a, template, segment, token, action="create"))["Location"]
    for action, state in (("pause", "paused"), ("resume", "scheduled"), ("cancel", "cancelled")):
        assert console_a.post(f"{location}{action}/", {"csrfmiddlewaretoken": token}).status_code == 302
        assert f'data-state="{state}"' in console_a.get(location).content.decode()
    with in_tenant(tenant_a):
        assert Message.objects.filter(status="failed").count() == 3


def test_another_workspace_cannot_see_or_act_on_a_campaign(console_a, console_b, number_a, vips):
    template, segment = vips
    token = _csrf(console_a, "/app/campaigns/new/")
    location = console_a.post("/app/campaigns/new/", form(number_a, template, segment, token, action="create"))["Location"]
    assert console_b.get(location).status_code == 404
    token_b = _csrf(console_b, "/app/campaigns/")
    assert console_b.post(f"{location}pause/", {"csrfmiddlewaretoken": token_b}).status_code == 404
    assert "Winter sale" not in console_b.get("/app/campaigns/").content.decode()
    # Alpha's segment means nothing in beta's composer.
    refused = console_b.post("/app/campaigns/new/", {"csrfmiddlewaretoken": token_b, "action": "check", "audience": "segment",
                                                    "segment": str(segment.pk)})
    assert refused.status_code in (404, 422)


def test_the_list_counts_every_campaign_in_one_query(console_a, number_a, vips):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    template, segment = vips
    token = _csrf(console_a, "/app/campaigns/new/")

    def listed() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert console_a.get("/app/campaigns/").status_code == 200
        return len(queries)

    console_a.post("/app/campaigns/new/", form(number_a, template, segment, token, action="create"))
    one = listed()
    for name in ("Second", "Third"):
        console_a.post("/app/campaigns/new/", form(number_a, template, segment, token, action="create", name=name))
    assert listed() == one
    assert "Third" in console_a.get("/app/campaigns/").content.decode()
