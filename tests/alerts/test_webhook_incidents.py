"""Template and quality webhooks through the real path (signed POST, journal, worker) open one
incident, tell each chosen channel once, and a later webhook that clears the condition resolves it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.core import mail

from alerts.models import Incident
from alerts.services import alert_settings_update
from integrations.models import Delivery, Event
from integrations.worker import deliveries_run_once
from tests.factories import TemplateFactory
from tests.webhooks.conftest import process_journal

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
REJECTED = json.loads((FIXTURES / "template_status_rejected.json").read_text())


def template_status(event: str, *, time: int) -> bytes:
    body = copy.deepcopy(REJECTED)
    body["entry"][0]["time"] = time
    change = body["entry"][0]["changes"][0]["value"]
    change["event"] = event
    if event == "APPROVED":
        change["reason"] = "NONE"
    return json.dumps(body).encode()


def template_quality(score: str, previous: str, *, time: int) -> bytes:
    body = copy.deepcopy(REJECTED)
    body["entry"][0]["time"] = time
    body["entry"][0]["changes"] = [
        {
            "field": "message_template_quality_update",
            "value": {
                "previous_quality_score": previous,
                "new_quality_score": score,
                "message_template_id": 1689556908129833,
                "message_template_name": "summer_sale",
                "message_template_language": "en_US",
            },
        }
    ]
    return json.dumps(body).encode()


@pytest.fixture
def summer_sale(tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        return TemplateFactory(
            account=number_a.account,
            name="summer_sale",
            language="en_US",
            meta_template_id="1689556908129833",
        )


def deliver(webhook, body: bytes, capture) -> None:
    assert webhook.post(body).status_code == 200
    with capture(execute=True):
        process_journal()


def test_a_rejected_template_opens_one_incident_told_once_and_approval_resolves_it(
    tenant_a,
    in_tenant,
    webhook,
    summer_sale,
    team_a,
    alert_endpoint,
    receiver,
    django_capture_on_commit_callbacks,
):
    deliver(webhook, json.dumps(REJECTED).encode(), django_capture_on_commit_callbacks)

    with in_tenant(tenant_a):
        incident = Incident.objects.get()
        assert (incident.kind, incident.subject_key, incident.subject_label) == (
            "template_rejected",
            f"template:{summer_sale.pk}",
            "summer_sale (en_US)",
        )
        assert incident.is_open and incident.last_notified_at == incident.opened_at
        assert incident.details["reason"] == "INCORRECT_CATEGORY"
        assert list(Event.objects.values_list("type", flat=True)) == ["alert.opened"]
        assert list(Delivery.objects.values_list("endpoint_id", flat=True)) == [alert_endpoint.pk]
    [opened] = mail.outbox
    assert opened.to == team_a  # the active owner and admin: not the viewer, not the inactive admin
    assert opened.subject == "Alert: Template rejected, summer_sale (en_US)"
    assert "Template summer_sale (en_US) was rejected: INCORRECT_CATEGORY" in opened.body

    assert deliveries_run_once() == 1
    [posted] = receiver.requests
    assert posted.json["type"] == "alert.opened"
    assert posted.json["data"]["incident"]["kind"] == "template_rejected"
    assert posted.json["data"]["incident"]["resolved_at"] is None

    # Meta delivers the same change again: nothing new, nobody told again.
    deliver(webhook, json.dumps(REJECTED).encode(), django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        assert Incident.objects.count() == 1
        assert Event.objects.count() == 1
    assert len(mail.outbox) == 1

    deliver(webhook, template_status("APPROVED", time=1750270100), django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        incident.refresh_from_db()
        assert incident.resolved_at is not None and incident.last_notified_at == incident.resolved_at
        assert sorted(Event.objects.values_list("type", flat=True)) == ["alert.opened", "alert.resolved"]
    assert [message.subject for message in mail.outbox] == [
        "Alert: Template rejected, summer_sale (en_US)",
        "Resolved: Template rejected, summer_sale (en_US)",
    ]
    assert mail.outbox[1].to == team_a
    assert "This is over: Template summer_sale (en_US) was rejected" in mail.outbox[1].body

    # The approval delivered again tells nobody either.
    deliver(webhook, template_status("APPROVED", time=1750270100), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2


def test_a_paused_template_is_its_own_incident(
    tenant_a, in_tenant, webhook, summer_sale, team_a, django_capture_on_commit_callbacks
):
    deliver(webhook, template_status("PAUSED", time=1750270050), django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        assert list(Incident.objects.values_list("kind", "resolved_at")) == [("template_paused", None)]
    assert mail.outbox[0].subject == "Alert: Template paused, summer_sale (en_US)"


def test_template_quality_green_yellow_green_opens_then_resolves(
    tenant_a, in_tenant, webhook, summer_sale, team_a, alert_endpoint, django_capture_on_commit_callbacks
):
    deliver(
        webhook, template_quality("GREEN", "UNKNOWN", time=1750270001), django_capture_on_commit_callbacks
    )
    with in_tenant(tenant_a):
        assert not Incident.objects.exists()
    assert mail.outbox == []

    deliver(webhook, template_quality("YELLOW", "GREEN", time=1750270002), django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        incident = Incident.objects.get()
        assert (incident.kind, incident.is_open) == ("quality_dropped", True)
        assert incident.details["quality_score"] == "YELLOW"
    assert [message.subject for message in mail.outbox] == ["Alert: Quality dropped, summer_sale (en_US)"]

    deliver(webhook, template_quality("GREEN", "YELLOW", time=1750270003), django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        incident.refresh_from_db()
        assert not incident.is_open
        assert list(Event.objects.order_by("pk").values_list("type", flat=True)) == [
            "alert.opened",
            "alert.resolved",
        ]
    assert [message.subject for message in mail.outbox] == [
        "Alert: Quality dropped, summer_sale (en_US)",
        "Resolved: Quality dropped, summer_sale (en_US)",
    ]


def test_a_flagged_number_opens_a_quality_incident_and_unflagged_resolves_it(
    tenant_a, in_tenant, webhook, number_a, team_a, django_capture_on_commit_callbacks
):
    def quality(event: str, time: int) -> bytes:
        body = copy.deepcopy(REJECTED)
        body["entry"][0]["time"] = time
        body["entry"][0]["changes"] = [
            {
                "field": "phone_number_quality_update",
                "value": {
                    "display_phone_number": number_a.display_phone_number,
                    "event": event,
                    "current_limit": "TIER_1K",
                },
            }
        ]
        return json.dumps(body).encode()

    deliver(webhook, quality("FLAGGED", 1750270001), django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        incident = Incident.objects.get()
        assert (incident.kind, incident.subject_key) == ("quality_dropped", f"phone:{number_a.pk}")
        assert incident.details["quality_rating"] == "RED"
    deliver(webhook, quality("UNFLAGGED", 1750270002), django_capture_on_commit_callbacks)
    with in_tenant(tenant_a):
        incident.refresh_from_db()
        assert not incident.is_open
    assert len(mail.outbox) == 2


def test_channels_turned_off_tell_nobody_but_the_incident_is_kept(
    tenant_a, in_tenant, webhook, summer_sale, team_a, alert_endpoint, django_capture_on_commit_callbacks
):
    with in_tenant(tenant_a):
        alert_settings_update(
            email_enabled=False, webhook_enabled=False, email_extra_addresses=["ops@alpha.test"]
        )
    deliver(webhook, json.dumps(REJECTED).encode(), django_capture_on_commit_callbacks)
    deliver(webhook, template_status("APPROVED", time=1750270100), django_capture_on_commit_callbacks)

    with in_tenant(tenant_a):
        assert list(Incident.objects.values_list("kind", flat=True)) == ["template_rejected"]
        assert not Incident.objects.filter(resolved_at__isnull=True).exists()
        assert not Event.objects.exists()
    assert mail.outbox == []


def test_extra_addresses_are_mailed_too(
    tenant_a, in_tenant, webhook, summer_sale, team_a, django_capture_on_commit_callbacks
):
    with in_tenant(tenant_a):
        alert_settings_update(email_extra_addresses=["Ops@Alpha.test"])
    deliver(webhook, json.dumps(REJECTED).encode(), django_capture_on_commit_callbacks)
    assert mail.outbox[0].to == ["adam@alpha.test", "ana@alpha.test", "ops@alpha.test"]
