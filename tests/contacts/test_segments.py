"""Segments: every condition kind selects the right contacts in one query, all/any combinations,
validation errors with their field paths, live counts, pages, export, the console's pages and
isolation between workspaces."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broadcasts.models import Broadcast, BroadcastRecipient
from contacts import segments
from contacts.models import AttributeDefinition, Segment
from messaging.models import Contact, Message
from tests.conftest import host_of
from tests.messaging.factories import ContactFactory, ConversationFactory, MessageFactory


def _csrf(client, url):
    html = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def fields_of(response):
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    return {detail["field"]: detail for detail in error["details"]}


@pytest.fixture
def people(tenant_a, in_tenant):
    """Alpha's contacts, each with one distinguishing trait; returns {name: contact id}."""
    now = timezone.now()
    with in_tenant(tenant_a):
        AttributeDefinition.objects.create(key="city", label="City", type="text")
        AttributeDefinition.objects.create(key="orders", label="Orders", type="number")
        AttributeDefinition.objects.create(key="birthday", label="Birthday", type="date")
        AttributeDefinition.objects.create(key="vip", label="VIP", type="boolean")
        contacts = {
            "ana": ContactFactory(
                profile_name="Ana",
                tags=["vip", "newsletter"],
                attributes={"city": "Berlin", "orders": 12, "birthday": "1990-04-01", "vip": True},
                opted_in_at=now,
            ),
            "ben": ContactFactory(
                profile_name="Ben",
                tags=["newsletter"],
                attributes={"city": "Paris", "orders": 3, "birthday": "2001-12-24"},
                opted_out=True,
                opted_out_at=now,
                last_seen_at=now - timedelta(days=40),
            ),
            "cem": ContactFactory(
                profile_name="Cem", tags=[], blocked=True, first_seen_at=None, last_seen_at=None
            ),
            "dana": ContactFactory(profile_name="Dana", tags=["vip"], last_seen_at=now - timedelta(days=2)),
        }
        ConversationFactory(contact=contacts["dana"], window_open=True)
        # Ana received a broadcast 3 days ago and wrote afterwards; Ben's broadcast failed.
        message = MessageFactory(
            conversation=ConversationFactory(contact=contacts["ana"]),
            direction=Message.Direction.OUTBOUND,
            timestamp=now - timedelta(days=3),
            template=None,
        )
        broadcast = Broadcast.objects.create(
            phone_number=message.phone_number, template_name="promo", template_language="en"
        )
        BroadcastRecipient.objects.create(broadcast=broadcast, wa_id=contacts["ana"].wa_id, message=message)
        MessageFactory(conversation=message.conversation, timestamp=now - timedelta(days=2))
        failed = MessageFactory(
            conversation=ConversationFactory(contact=contacts["ben"]),
            direction=Message.Direction.OUTBOUND,
            status=Message.Status.FAILED,
            timestamp=now - timedelta(days=3),
        )
        BroadcastRecipient.objects.create(broadcast=broadcast, wa_id=contacts["ben"].wa_id, message=failed)
        return {name: contact.pk for name, contact in contacts.items()}


def selected(people, *conditions, match="all"):
    definition = segments.segment_definition_clean({"match": match, "conditions": list(conditions)})
    with CaptureQueriesContext(connection) as queries:
        ids = set(segments.segment_contacts(definition=definition).values_list("id", flat=True))
    assert len(queries) == 1
    return {name for name, pk in people.items() if pk in ids}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"kind": "tags", "operator": "has_any", "value": ["VIP", "x"]}, {"ana", "dana"}),
        ({"kind": "tags", "operator": "has_all", "value": ["vip", "newsletter"]}, {"ana"}),
        ({"kind": "tags", "operator": "has_none", "value": "vip"}, {"ben", "cem"}),
        ({"kind": "attribute", "key": "city", "operator": "equals", "value": "Berlin"}, {"ana"}),
        (
            {"kind": "attribute", "key": "city", "operator": "not_equals", "value": "Berlin"},
            {"ben", "cem", "dana"},
        ),
        ({"kind": "attribute", "key": "orders", "operator": "greater", "value": "5"}, {"ana"}),
        ({"kind": "attribute", "key": "orders", "operator": "less", "value": 12}, {"ben"}),
        ({"kind": "attribute", "key": "orders", "operator": "equals", "value": "12.0"}, {"ana"}),
        ({"kind": "attribute", "key": "birthday", "operator": "greater", "value": "1995-01-01"}, {"ben"}),
        ({"kind": "attribute", "key": "birthday", "operator": "less", "value": "1995-01-01"}, {"ana"}),
        ({"kind": "attribute", "key": "vip", "operator": "equals", "value": "yes"}, {"ana"}),
        ({"kind": "attribute", "key": "city", "operator": "is_set"}, {"ana", "ben"}),
        ({"kind": "attribute", "key": "city", "operator": "not_set"}, {"cem", "dana"}),
        ({"kind": "opt_in", "operator": "opted_in"}, {"ana"}),
        ({"kind": "opt_in", "operator": "opted_out"}, {"ben"}),
        ({"kind": "opt_in", "operator": "unknown"}, {"cem", "dana"}),
        ({"kind": "blocked", "operator": "blocked"}, {"cem"}),
        ({"kind": "blocked", "operator": "not_blocked"}, {"ana", "ben", "dana"}),
        ({"kind": "activity", "operator": "inbound_within_days", "value": 7}, {"ana", "dana"}),
        ({"kind": "activity", "operator": "never_wrote"}, {"cem"}),
        ({"kind": "activity", "operator": "window_open"}, {"dana"}),
        ({"kind": "broadcast", "operator": "received_within_days", "value": 7}, {"ana"}),
        ({"kind": "broadcast", "operator": "received_within_days", "value": 1}, set()),
        ({"kind": "broadcast", "operator": "replied_within_days", "value": 30}, {"ana"}),
    ],
)
def test_each_condition_selects_the_right_contacts_in_one_query(
    people, tenant_a, in_tenant, condition, expected
):
    with in_tenant(tenant_a):
        assert selected(people, condition) == expected


def test_all_and_any_combine_the_conditions(people, tenant_a, in_tenant):
    vip = {"kind": "tags", "operator": "has_any", "value": ["vip"]}
    opted_out = {"kind": "opt_in", "operator": "opted_out"}
    window = {"kind": "activity", "operator": "window_open"}
    with in_tenant(tenant_a):
        assert selected(people, vip, window, match="all") == {"dana"}
        assert selected(people, vip, opted_out, match="any") == {"ana", "ben", "dana"}
        assert selected(people, opted_out, window, match="all") == set()
        assert selected(people, match="all") == {"ana", "ben", "cem", "dana"}


def test_a_replied_contact_wrote_after_the_broadcast_not_before(tenant_a, in_tenant):
    now = timezone.now()
    with in_tenant(tenant_a):
        contact = ContactFactory()
        conversation = ConversationFactory(contact=contact)
        MessageFactory(conversation=conversation, timestamp=now - timedelta(days=5))
        message = MessageFactory(
            conversation=conversation, direction=Message.Direction.OUTBOUND, timestamp=now - timedelta(days=3)
        )
        broadcast = Broadcast.objects.create(
            phone_number=message.phone_number, template_name="promo", template_language="en"
        )
        BroadcastRecipient.objects.create(broadcast=broadcast, wa_id=contact.wa_id, message=message)
        assert (
            selected({"c": contact.pk}, {"kind": "broadcast", "operator": "replied_within_days", "value": 30})
            == set()
        )


def test_the_audience_leaves_out_the_opted_out_and_the_blocked(people, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        everyone = segments.segment_create(name="Everyone", definition={"match": "all", "conditions": []})
        with CaptureQueriesContext(connection) as queries:
            wa_ids = segments.segment_audience_wa_ids(segment=everyone)
        assert len(queries) == 1
        expected = Contact.objects.filter(pk__in=[people["ana"], people["dana"]]).order_by("id")
        assert wa_ids == [contact.wa_id for contact in expected]


# --- API -----------------------------------------------------------------------------------------

VIP = {"match": "all", "conditions": [{"kind": "tags", "operator": "has_any", "value": ["vip"]}]}


def test_crud_with_live_counts(api_a, people):
    response = api_a.post_json("/api/v1/segments", {"name": "VIPs", "description": "Best", "definition": VIP})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 2
    assert body["definition"] == VIP
    segment_id = body["id"]

    listed = api_a.get("/api/v1/segments").json()["items"]
    assert [(item["name"], item["count"]) for item in listed] == [("VIPs", 2)]

    changed = api_a.patch_json(
        f"/api/v1/segments/{segment_id}",
        {"definition": {"match": "any", "conditions": [{"kind": "blocked", "operator": "blocked"}]}},
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], changed.json()["count"]) == ("VIPs", 1)
    assert api_a.get(f"/api/v1/segments/{segment_id}").json()["count"] == 1

    assert api_a.delete(f"/api/v1/segments/{segment_id}").status_code == 204
    assert api_a.get(f"/api/v1/segments/{segment_id}").status_code == 404


def test_duplicate_name_is_refused(api_a, people):
    assert api_a.post_json("/api/v1/segments", {"name": "VIPs", "definition": VIP}).status_code == 201
    fields = fields_of(api_a.post_json("/api/v1/segments", {"name": " VIPs ", "definition": VIP}))
    assert fields["name"]["type"] == "duplicate"


@pytest.mark.parametrize(
    ("condition", "field", "kind"),
    [
        (
            {"kind": "attribute", "key": "shoe_size", "operator": "equals", "value": "42"},
            "key",
            "unknown_attribute",
        ),
        (
            {"kind": "attribute", "key": "orders", "operator": "greater", "value": "many"},
            "value",
            "wrong_type",
        ),
        (
            {"kind": "attribute", "key": "birthday", "operator": "less", "value": "24.12.2001"},
            "value",
            "wrong_type",
        ),
        ({"kind": "attribute", "key": "city", "operator": "greater", "value": "B"}, "operator", "invalid"),
        ({"kind": "attribute", "key": "city", "operator": "equals"}, "value", "required"),
        ({"kind": "activity", "operator": "inbound_within_days", "value": "soon"}, "value", "wrong_type"),
        ({"kind": "activity", "operator": "inbound_within_days", "value": 0}, "value", "wrong_type"),
        ({"kind": "tags", "operator": "has_any", "value": []}, "value", "required"),
        ({"kind": "tags", "operator": "contains", "value": ["a"]}, "operator", "invalid"),
        ({"kind": "mood", "operator": "happy"}, "kind", "invalid"),
    ],
)
def test_invalid_definitions_name_the_field(api_a, people, condition, field, kind):
    definition = {"match": "all", "conditions": [VIP["conditions"][0], condition]}
    response = api_a.post_json("/api/v1/segments", {"name": "Bad", "definition": definition})
    fields = fields_of(response)
    assert fields[f"definition.conditions[1].{field}"]["type"] == kind
    preview = fields_of(api_a.post_json("/api/v1/segments/preview", {"definition": definition}))
    assert f"definition.conditions[1].{field}" in preview


def test_match_must_be_all_or_any(api_a, people):
    fields = fields_of(
        api_a.post_json("/api/v1/segments", {"name": "X", "definition": {"match": "some", "conditions": []}})
    )
    assert "definition.match" in fields


def test_preview_gives_the_count_and_the_newest_contacts(api_a, people):
    response = api_a.post_json("/api/v1/segments/preview", {"definition": VIP})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["newest"]] == [people["dana"], people["ana"]]
    assert body["newest"][1]["totals"]["messages_in"] == 1


def test_contacts_pages_and_count_agree(api_a, people, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        ContactFactory.create_batch(3, tags=["vip"])
    segment_id = api_a.post_json("/api/v1/segments", {"name": "VIPs", "definition": VIP}).json()["id"]
    count = api_a.get(f"/api/v1/segments/{segment_id}").json()["count"]
    first = api_a.get(f"/api/v1/segments/{segment_id}/contacts?limit=3").json()
    second = api_a.get(f"/api/v1/segments/{segment_id}/contacts?limit=3&cursor={first['next_cursor']}").json()
    assert second["next_cursor"] is None
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert count == len(ids) == len(set(ids)) == 5
    assert all("vip" in item["tags"] for item in first["items"] + second["items"])
    assert api_a.get(f"/api/v1/segments/{segment_id}/contacts?cursor=nonsense").status_code == 422


def test_export_is_the_segment_as_csv(api_a, people):
    segment_id = api_a.post_json("/api/v1/segments", {"name": "VIPs", "definition": VIP}).json()["id"]
    response = api_a.get(f"/api/v1/segments/{segment_id}/export")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(row["name"] for row in rows) == ["Ana", "Dana"]
    assert {row["attr:city"] for row in rows} == {"Berlin", ""}


def test_another_workspaces_segment_is_not_found(api_a, api_b, people, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        theirs = Segment.objects.create(name="Theirs", definition={"match": "all", "conditions": []})
    for path in ("", "/contacts", "/export"):
        response = api_a.get(f"/api/v1/segments/{theirs.pk}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "segment_not_found"
    assert api_a.patch_json(f"/api/v1/segments/{theirs.pk}", {"name": "Mine"}).status_code == 404
    assert api_a.delete(f"/api/v1/segments/{theirs.pk}").status_code == 404
    assert api_a.get("/api/v1/segments").json() == {"items": [], "count": 0}
    assert api_b.get(f"/api/v1/segments/{theirs.pk}").json()["count"] == 0


# --- console -------------------------------------------------------------------------------------


def post(client, page, path, data):
    return client.post(path, {"csrfmiddlewaretoken": _csrf(client, page), **data})


def test_console_builds_a_segment_with_plain_posts(console_a, people, tenant_a, in_tenant):
    page = console_a.get("/app/contacts/segments/new/").content.decode()
    assert '<label for="c-0-rule">Condition 1</label>' in page
    assert '<label for="segment-name">Name</label>' in page
    assert 'hx-post="/app/contacts/segments/preview/"' in page

    added = post(
        console_a,
        "/app/contacts/segments/new/",
        "/app/contacts/segments/new/",
        {
            "name": "Big buyers",
            "match": "all",
            "rows": "1",
            "c-0-rule": "tags:has_any",
            "c-0-value": "vip",
            "add": "1",
        },
    )
    html = added.content.decode()
    assert added.status_code == 200
    assert 'name="c-1-rule"' in html and 'value="vip"' in html
    assert "data-preview-count>2<" in html  # the count without JavaScript

    saved = post(
        console_a,
        "/app/contacts/segments/new/",
        "/app/contacts/segments/new/",
        {
            "name": "Big buyers",
            "match": "all",
            "rows": "2",
            "c-0-rule": "tags:has_any",
            "c-0-value": "vip",
            "c-1-rule": "attribute:greater",
            "c-1-key": "orders",
            "c-1-value": "5",
        },
    )
    assert saved.status_code == 302
    with in_tenant(tenant_a):
        segment = Segment.objects.get(name="Big buyers")
    assert saved["Location"] == f"/app/contacts/segments/{segment.pk}/"
    assert segment.definition["conditions"][1] == {
        "kind": "attribute",
        "operator": "greater",
        "key": "orders",
        "value": 5,
    }
    detail = console_a.get(saved["Location"]).content.decode()
    assert "Ana" in detail and "Dana" not in detail
    assert f'href="/app/contacts/segments/{segment.pk}/export.csv"' in detail

    listing = console_a.get("/app/contacts/segments/").content.decode()
    assert f'data-count="{segment.pk}">1<' in listing

    export = console_a.get(f"/app/contacts/segments/{segment.pk}/export.csv")
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert len(lines) == 2 and ",Ana," in lines[1]


def test_console_shows_errors_on_the_row_they_name(console_a, people, tenant_a, in_tenant):
    response = post(
        console_a,
        "/app/contacts/segments/new/",
        "/app/contacts/segments/new/",
        {
            "name": "",
            "match": "all",
            "rows": "3",
            "c-0-rule": "tags:has_any",
            "c-0-value": "vip",
            "c-1-rule": "",
            "c-2-rule": "attribute:greater",
            "c-2-key": "orders",
            "c-2-value": "lots",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="c-2-errors"><li>must be a number</li>' in html
    assert "Condition 3" in html
    with in_tenant(tenant_a):
        assert not Segment.objects.exists()


def test_console_live_preview_fragment(console_a, people):
    data = {"match": "any", "rows": "2", "c-0-rule": "blocked:blocked", "c-1-rule": "opt_in:opted_in"}
    response = post(console_a, "/app/contacts/segments/new/", "/app/contacts/segments/preview/", data)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "data-preview-count>2<" in html and "Ana" in html and "Cem" in html

    bad = post(
        console_a,
        "/app/contacts/segments/new/",
        "/app/contacts/segments/preview/",
        {"rows": "1", "c-0-rule": "attribute:equals", "c-0-key": "shoe_size", "c-0-value": "42"},
    )
    assert "key: no such attribute" in bad.content.decode()


def test_console_edit_and_delete(console_a, people, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        segment = segments.segment_create(name="VIPs", definition=VIP)
    edit = console_a.get(f"/app/contacts/segments/{segment.pk}/edit/").content.decode()
    assert 'value="VIPs"' in edit and '<option value="tags:has_any" selected>' in edit
    assert "data-preview-count>2<" in edit
    page = f"/app/contacts/segments/{segment.pk}/edit/"
    response = post(
        console_a,
        page,
        page,
        {"name": "Blocked", "match": "all", "rows": "1", "c-0-rule": "blocked:blocked"},
    )
    assert response.status_code == 302
    assert "Cem" in console_a.get(response["Location"]).content.decode()
    deleted = post(console_a, page, f"/app/contacts/segments/{segment.pk}/delete/", {})
    assert deleted.status_code == 302 and deleted["Location"] == "/app/contacts/segments/"
    with in_tenant(tenant_a):
        assert not Segment.objects.exists()


def test_console_another_workspaces_segment_is_404(console_a, console_b, people, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        theirs = Segment.objects.create(name="Theirs", definition={"match": "all", "conditions": []})
    for path in ("", "edit/", "export.csv"):
        assert console_a.get(f"/app/contacts/segments/{theirs.pk}/{path}").status_code == 404, path
    deleted = post(console_a, "/app/contacts/segments/", f"/app/contacts/segments/{theirs.pk}/delete/", {})
    assert deleted.status_code == 404
    with in_tenant(tenant_b):
        assert Segment.objects.filter(pk=theirs.pk).exists()


def test_console_b_session_on_alphas_host_goes_to_login(console_b, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        mine = Segment.objects.create(name="Mine", definition={"match": "all", "conditions": []})
    alpha = host_of(tenant_a)
    for path in (
        "/app/contacts/segments/",
        "/app/contacts/segments/new/",
        f"/app/contacts/segments/{mine.pk}/",
        f"/app/contacts/segments/{mine.pk}/edit/",
        f"/app/contacts/segments/{mine.pk}/export.csv",
    ):
        response = console_b.get(path, HTTP_HOST=alpha)
        assert response.status_code == 302 and response.url.startswith("/app/login/"), path
    login = console_b.get("/app/login/", HTTP_HOST=alpha).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    for path in (f"/app/contacts/segments/{mine.pk}/delete/", "/app/contacts/segments/preview/"):
        response = console_b.post(path, {"csrfmiddlewaretoken": token}, HTTP_HOST=alpha)
        assert response.status_code == 302 and response.url.startswith("/app/login/"), path
    with in_tenant(tenant_a):
        assert Segment.objects.filter(pk=mine.pk).exists()
