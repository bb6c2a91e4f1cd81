"""Broadcasts: one template to many recipients, validated up front, paced, with progress, cancellable."""

from __future__ import annotations

import time

import pytest

from broadcasts.models import Broadcast, BroadcastRecipient
from messaging.models import Message
from tests.sending.factories import ContactFactory, PhoneNumberFactory, TemplateFactory, simulator_seed_for
from tests.sending.helpers import drain, graph_sends, status_webhooks_deliver


def recipients(count, start=0):
    return [{"to": f"+49151{start + i:08d}", "body_parameters": [f"Customer {i}", f"#{i}"]} for i in range(count)]


def broadcast_body(number, template, people, **extra):
    return {
        "phone_number_id": number.phone_number_id,
        "name": "Spring menu",
        "template": {"name": template.name, "language": template.language},
        "recipients": people,
        **extra,
    }


def created(api, number, template, people, **headers):
    response = api.post_json("/api/v1/broadcasts", broadcast_body(number, template, people), **headers)
    assert response.status_code == 202, response.json()
    return response.json()


@pytest.fixture
def sim(graph_simulator, number_a, template_a, fast_retries):
    simulator_seed_for(graph_simulator, number_a, [template_a])
    return graph_simulator


def test_a_broadcast_queues_one_template_message_per_recipient(api_a, tenant_a, in_tenant, number_a, template_a):
    body = created(api_a, number_a, template_a, recipients(3))

    assert body["status"] == "running"
    assert body["progress"] == {
        "total": 3, "queued": 3, "sent": 0, "delivered": 0, "read": 0, "failed": 0, "cancelled": 0, "skipped": 0
    }
    with in_tenant(tenant_a):
        broadcast = Broadcast.objects.get(pk=body["id"])
        rows = list(BroadcastRecipient.objects.filter(broadcast=broadcast).select_related("message").order_by("wa_id"))
        assert [row.wa_id for row in rows] == ["4915100000000", "4915100000001", "4915100000002"]
        first = rows[0].message
        assert first.type == "template" and first.template == template_a and first.status == "queued"
        assert first.request_payload["template"]["components"] == [
            {"type": "body", "parameters": [{"type": "text", "text": "Customer 0"}, {"type": "text", "text": "#0"}]}
        ]
        assert first.request_payload["biz_opaque_callback_data"] == str(first.pk)
        assert rows[1].parameters == {"body_parameters": ["Customer 1", "#1"]}
        # Scheduled at the number's pace (80/s) so single sends queued later are not stuck behind it.
        gap = (rows[2].message.next_attempt_at - rows[0].message.next_attempt_at).total_seconds()
        assert gap == pytest.approx(2 / 80, abs=0.002)


def test_every_bad_recipient_is_listed_and_nothing_is_queued(api_a, tenant_a, in_tenant, number_a, template_a):
    people = recipients(4)
    people[1]["to"] = "+1 555"
    people[2]["body_parameters"] = ["only one"]
    people[3]["to"] = people[0]["to"]
    response = api_a.post_json("/api/v1/broadcasts", broadcast_body(number_a, template_a, people))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_message"
    assert [(d["field"], d["kind"]) for d in error["details"]] == [
        ("recipients[1].to", "invalid"),
        ("recipients[2].body_parameters", "count"),
        ("recipients[3].to", "duplicate"),
    ]
    with in_tenant(tenant_a):
        assert not Broadcast.objects.exists() and not Message.objects.exists()


def test_too_many_recipients_are_refused_with_the_limit(api_a, number_a, template_a, settings):
    settings.BROADCAST_MAX_RECIPIENTS = 3
    response = api_a.post_json("/api/v1/broadcasts", broadcast_body(number_a, template_a, recipients(4)))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0] | {"message": None} == {
        "field": "recipients", "kind": "too_many", "limit": 3, "actual": 4, "message": None
    }


def test_opted_out_contacts_are_skipped_for_marketing_templates(api_a, tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        promo = TemplateFactory(account=number_a.account, category="MARKETING")
        ContactFactory(wa_id="4915100000001", opted_out=True)
    body = created(api_a, number_a, promo, recipients(3))
    assert body["progress"]["queued"] == 2 and body["progress"]["skipped"] == 1
    with in_tenant(tenant_a):
        skipped = BroadcastRecipient.objects.get(wa_id="4915100000001")
        assert skipped.message is None and "opted out" in skipped.skipped_reason


def test_blocked_contacts_are_skipped_whatever_the_template(api_a, tenant_a, in_tenant, number_a, template_a):
    with in_tenant(tenant_a):
        ContactFactory(wa_id="4915100000002", blocked=True)
    body = created(api_a, number_a, template_a, recipients(3))
    assert body["progress"]["queued"] == 2 and body["progress"]["skipped"] == 1
    with in_tenant(tenant_a):
        skipped = BroadcastRecipient.objects.get(wa_id="4915100000002")
        assert skipped.message is None and skipped.skipped_reason == "blocked"


def test_recipients_are_written_in_batches(api_a, tenant_a, in_tenant, number_a, template_a, settings):
    settings.BROADCAST_BATCH_SIZE = 2
    body = created(api_a, number_a, template_a, recipients(5))
    assert body["progress"]["queued"] == 5
    with in_tenant(tenant_a):
        assert Message.objects.filter(broadcast_recipient__broadcast_id=body["id"]).count() == 5


def test_progress_follows_sends_and_status_webhooks_until_completed(sim, api_a, tenant_a, in_tenant, number_a, template_a):
    sim.configure(status_delay_ms=1)
    body = created(api_a, number_a, template_a, recipients(4))

    drain(tenant_a)
    progress = api_a.get(f"/api/v1/broadcasts/{body['id']}").json()
    assert progress["progress"]["sent"] == 4 and progress["status"] == "completed"
    assert len(graph_sends(sim, number_a)) == 4

    # The simulator posts sent, delivered and read for each message from its own threads: wait for all 12.
    deadline = time.monotonic() + 5
    while len(sim.webhooks(limit=0, field_name="messages")) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    with in_tenant(tenant_a):
        status_webhooks_deliver(sim)
    after = api_a.get(f"/api/v1/broadcasts/{body['id']}").json()["progress"]
    assert after["read"] == 4 and after["sent"] == 0


def test_cancelling_fails_what_is_queued_and_nothing_is_sent_after(sim, api_a, tenant_a, in_tenant, number_a, template_a):
    body = created(api_a, number_a, template_a, recipients(30))
    response = api_a.post_json(f"/api/v1/broadcasts/{body['id']}/cancel", {"reason": "wrong price"})

    assert response.status_code == 200
    assert response["In-Flight"] == "0"
    cancelled = response.json()
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "wrong price"
    assert cancelled["progress"]["cancelled"] == 30 and cancelled["progress"]["queued"] == 0
    drain(tenant_a, max_seconds=1)
    assert graph_sends(sim, number_a) == []
    with in_tenant(tenant_a):
        message = Message.objects.filter(broadcast_recipient__broadcast_id=body["id"]).first()
        assert message.status == "failed" and message.error_details == "wrong price"
    # Cancelling again is harmless.
    assert api_a.post_json(f"/api/v1/broadcasts/{body['id']}/cancel").json()["progress"]["cancelled"] == 30


def test_cancelling_a_running_broadcast_stops_it(sim, api_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        slow = PhoneNumberFactory(throughput_mps=10)
        template = TemplateFactory(account=slow.account)
    simulator_seed_for(sim, slow, [template])
    body = created(api_a, slow, template, recipients(40))

    drain(tenant_a, max_seconds=0.6)
    sent_before = len(graph_sends(sim, slow))
    assert 3 <= sent_before <= 8
    cancelled = api_a.post_json(f"/api/v1/broadcasts/{body['id']}/cancel").json()
    drain(tenant_a, max_seconds=1)

    assert len(graph_sends(sim, slow)) == sent_before
    assert cancelled["progress"]["sent"] == sent_before
    assert cancelled["progress"]["cancelled"] == 40 - sent_before


def test_the_same_idempotency_key_returns_the_same_broadcast(api_a, tenant_a, in_tenant, number_a, template_a):
    first = created(api_a, number_a, template_a, recipients(2), HTTP_IDEMPOTENCY_KEY="spring-1")
    again = api_a.post_json(
        "/api/v1/broadcasts", broadcast_body(number_a, template_a, recipients(2)), HTTP_IDEMPOTENCY_KEY="spring-1"
    )
    assert again.status_code == 202 and again.json()["id"] == first["id"]
    with in_tenant(tenant_a):
        assert Message.objects.count() == 2


def test_broadcasts_of_another_tenant_are_invisible(api_a, api_b, tenant_b, in_tenant, number_b):
    with in_tenant(tenant_b):
        template_b = TemplateFactory(account=number_b.account)
    theirs = created(api_b, number_b, template_b, recipients(2))

    assert api_a.get(f"/api/v1/broadcasts/{theirs['id']}").status_code == 404
    refused = api_a.post_json(f"/api/v1/broadcasts/{theirs['id']}/cancel")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert api_a.get("/api/v1/broadcasts").json() == {"items": [], "count": 0}
    assert api_b.get(f"/api/v1/broadcasts/{theirs['id']}").json()["status"] == "running"
    # Nor can alpha broadcast from beta's number.
    response = api_a.post_json("/api/v1/broadcasts", broadcast_body(number_b, template_b, recipients(1)))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_ten_thousand_recipients_fit_in_one_request(api_a, tenant_a, in_tenant, number_a, template_a):
    body = created(api_a, number_a, template_a, recipients(10_000))
    assert body["progress"]["queued"] == 10_000
    with in_tenant(tenant_a):
        assert Message.objects.filter(status="queued").count() == 10_000


VIP_SEGMENT = {"match": "all", "conditions": [{"kind": "tags", "operator": "has_any", "value": ["vip"]}]}


@pytest.fixture
def vip_segment(tenant_a, in_tenant):
    """Alpha's VIPs: two who may receive, one opted out of marketing, one blocked, and a non-VIP."""
    from contacts.models import Segment

    with in_tenant(tenant_a):
        ContactFactory(wa_id="4915100000011", tags=["vip"])
        ContactFactory(wa_id="4915100000012", tags=["vip"])
        ContactFactory(wa_id="4915100000013", tags=["vip"], opted_out=True)
        ContactFactory(wa_id="4915100000014", tags=["vip"], blocked=True)
        ContactFactory(wa_id="4915100000015", tags=["regular"])
        return Segment.objects.create(name="VIPs", definition=VIP_SEGMENT)


def segment_body(number, template, segment_id):
    return {
        "phone_number_id": number.phone_number_id,
        "name": "VIP preview night",
        "template": {"name": template.name, "language": template.language},
        "segment_id": segment_id,
        "parameters": {"body_parameters": ["friend", "#VIP"]},
    }


def test_a_broadcast_to_a_segment_goes_to_its_contacts_as_they_are_now(
    api_a, tenant_a, in_tenant, number_a, template_a, vip_segment
):
    response = api_a.post_json("/api/v1/broadcasts", segment_body(number_a, template_a, vip_segment.pk))

    assert response.status_code == 202, response.json()
    assert response.json()["progress"]["queued"] == 2
    with in_tenant(tenant_a):
        queued = Message.objects.filter(direction=Message.Direction.OUTBOUND).order_by("contact__wa_id")
        assert [message.contact.wa_id for message in queued] == ["4915100000011", "4915100000012"]
        assert all("friend" in message.body and "#VIP" in message.body for message in queued)


def test_a_segment_broadcast_needs_exactly_one_audience(api_a, number_a, template_a, vip_segment):
    both = {**segment_body(number_a, template_a, vip_segment.pk), "recipients": recipients(1)}
    neither = {**segment_body(number_a, template_a, None)}
    for body, kind in ((both, "conflict"), (neither, "required")):
        response = api_a.post_json("/api/v1/broadcasts", body)
        assert response.status_code == 422, response.json()
        assert response.json()["error"]["details"][0]["kind"] == kind


def test_another_workspaces_segment_is_not_found(api_b, tenant_b, in_tenant, number_b, vip_segment):
    from tests.factories import TemplateFactory as SharedTemplateFactory

    with in_tenant(tenant_b):
        template_b = SharedTemplateFactory(account=number_b.account)
    response = api_b.post_json("/api/v1/broadcasts", segment_body(number_b, template_b, vip_segment.pk))
    assert response.status_code == 404, response.json()
    assert response.json()["error"]["code"] == "segment_not_found"
