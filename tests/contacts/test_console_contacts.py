"""Console pages of contacts: list with search, filters and pages, the contact's page, create and
edit with errors next to the fields, tags, consent, block, delete, attributes, the import flow and
export; another workspace's ids are 404 and another workspace's session goes to the login page."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import AttributeDefinition, ConsentEvent, ImportJob
from messaging.models import Contact
from tests.conftest import host_of
from tests.messaging.factories import ContactFactory, ConversationFactory, MessageFactory


def csrf(client, path):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def post(client, page, path, data=None):
    return client.post(path, {"csrfmiddlewaretoken": csrf(client, page), **(data or {})})


def test_list_searches_filters_and_pages(console_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        ContactFactory(wa_id="447700900001", profile_name="Ada Lovelace", tags=["vip"], opted_out=True)
        others = [ContactFactory(profile_name=f"Customer {n:02d}") for n in range(55)]
    page = console_a.get("/app/contacts/").content.decode()
    assert "Customer 54" in page and "Next page" in page
    assert 'aria-current="page"' in page and 'href="/app/contacts/"' in page
    assert '<label for="id_q">Search</label>' in page
    second = console_a.get(
        "/app/contacts/" + re.search(r'href="(\?[^"]*cursor=[^"]+)"', page).group(1).replace("&amp;", "&")
    )
    assert "Ada Lovelace" in second.content.decode() and "Customer 54" not in second.content.decode()

    found = console_a.get("/app/contacts/", {"q": "lovelace"}).content.decode()
    assert "Ada Lovelace" in found and "Customer 01" not in found
    assert "Opted out" in found
    tagged = console_a.get("/app/contacts/", {"tag": "vip", "opt_in": "opted_out"}).content.decode()
    assert "Ada Lovelace" in tagged and others[0].profile_name not in tagged
    assert (
        "No contact matches these filters."
        in console_a.get("/app/contacts/", {"q": "nobody"}).content.decode()
    )

    export = console_a.get("/app/contacts/export.csv", {"tag": "vip"})
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert len(lines) == 2 and lines[1].startswith("+447700900001,447700900001,Ada Lovelace")


def test_contact_page_shows_profile_totals_consent_and_the_inbox_thread(
    console_a, tenant_a, in_tenant, number_a
):
    with in_tenant(tenant_a):
        contact = ContactFactory(profile_name="Kerry", tier="gold", attributes={"vip": True}, tags=["b2b"])
        AttributeDefinition.objects.create(key="vip", label="VIP customer", type="boolean")
        conversation = ConversationFactory(phone_number=number_a, contact=contact)
        MessageFactory(conversation=conversation)
        ConsentEvent.objects.create(
            contact=contact, kind="opt_out", source="meta", occurred_at=contact.created_at
        )
    page = console_a.get(f"/app/contacts/{contact.pk}/").content.decode()
    assert "Kerry" in page and "gold" in page and "VIP customer" in page and "Yes" in page
    assert "1 in, 0 out" in page
    assert f'href="/app/inbox/{conversation.pk}/"' in page
    assert "WhatsApp (customer&#x27;s preference)" in page


def test_create_shows_errors_next_to_fields_then_creates(console_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        AttributeDefinition.objects.create(key="orders", label="Orders", type="number")
    page = console_a.get("/app/contacts/new/").content.decode()
    assert '<label for="id_attr_orders">Orders</label>' in page
    refused = post(
        console_a,
        "/app/contacts/new/",
        "/app/contacts/new/",
        {"phone": "12", "timezone": "Mars/Base", "attr_orders": "many"},
    )
    assert refused.status_code == 422
    body = refused.content.decode()
    assert 'id="id_phone_errors"' in body and "not a phone number" in body
    assert (
        'id="id_timezone_errors"' in body
        and 'id="id_attr_orders_errors"' in body
        and "must be a number" in body
    )
    created = post(
        console_a,
        "/app/contacts/new/",
        "/app/contacts/new/",
        {"phone": "+49 151 12345678", "profile_name": "Jana", "tags": "vip, lead", "attr_orders": "3"},
    )
    assert created.status_code == 302
    with in_tenant(tenant_a):
        contact = Contact.objects.get(wa_id="4915112345678")
    assert created.url == f"/app/contacts/{contact.pk}/"
    assert (contact.tags, contact.attributes) == (["vip", "lead"], {"orders": 3})
    again = post(console_a, "/app/contacts/new/", "/app/contacts/new/", {"phone": "+4915112345678"})
    assert again.status_code == 422 and "already a contact" in again.content.decode()


def test_edit_tags_consent_block_and_delete(console_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        contact = ContactFactory(profile_name="Alex", tags=["old"])
    base = f"/app/contacts/{contact.pk}/"
    edit = console_a.get(f"{base}edit/").content.decode()
    assert 'value="Alex"' in edit and "id_phone" not in edit
    assert (
        post(
            console_a, f"{base}edit/", f"{base}edit/", {"profile_name": "Alex B", "language": "xx-!"}
        ).status_code
        == 422
    )
    assert (
        post(console_a, f"{base}edit/", f"{base}edit/", {"profile_name": "Alex B", "tags": "old"}).status_code
        == 302
    )
    post(console_a, base, f"{base}tags/", {"tags": "vip, b2b"})
    post(console_a, base, f"{base}tags/", {"remove": "old"})
    post(console_a, base, f"{base}consent/", {"kind": "opt_out", "note": "asked in the shop"})
    post(console_a, base, f"{base}block/", {"action": "block"})
    with in_tenant(tenant_a):
        contact.refresh_from_db()
        event = ConsentEvent.objects.get(contact=contact)
    assert (contact.profile_name, contact.tags, contact.opted_out, contact.blocked) == (
        "Alex B",
        ["vip", "b2b"],
        True,
        True,
    )
    assert (event.source, event.recorded_by, event.note) == ("console", "ana", "asked in the shop")
    page = console_a.get(base).content.decode()
    assert "Blocked since" in page and "asked in the shop" in page

    assert "cannot be undone" in console_a.get(f"{base}delete/").content.decode()
    deleted = post(console_a, f"{base}delete/", f"{base}delete/")
    assert deleted.status_code == 302 and deleted.url == "/app/contacts/"
    with in_tenant(tenant_a):
        assert not Contact.objects.filter(pk=contact.pk).exists()


def test_attributes_page_defines_and_deletes(console_a, tenant_a, in_tenant):
    refused = post(
        console_a,
        "/app/contacts/attributes/",
        "/app/contacts/attributes/",
        {"key": "plan", "label": "Plan", "type": "choice", "choices": ""},
    )
    assert refused.status_code == 422 and 'id="id_choices_errors"' in refused.content.decode()
    created = post(
        console_a,
        "/app/contacts/attributes/",
        "/app/contacts/attributes/",
        {"key": "plan", "label": "Plan", "type": "choice", "choices": "basic, pro"},
    )
    assert created.status_code == 302
    with in_tenant(tenant_a):
        definition = AttributeDefinition.objects.get(key="plan")
    assert definition.choices == ["basic", "pro"]
    assert "basic, pro" in console_a.get("/app/contacts/attributes/").content.decode()
    post(console_a, "/app/contacts/attributes/", f"/app/contacts/attributes/{definition.pk}/delete/")
    with in_tenant(tenant_a):
        assert not AttributeDefinition.objects.exists()


def test_import_flow_upload_map_run_progress_and_error_report(
    console_a, tenant_a, in_tenant, django_capture_on_commit_callbacks, sync_jobs
):
    text = "Full name,Mobile\nJana,0151 1234 5678\nBroken,12\n"
    token = csrf(console_a, "/app/contacts/import/")
    uploaded = console_a.post(
        "/app/contacts/import/",
        {"csrfmiddlewaretoken": token, "file": SimpleUploadedFile("people.csv", text.encode(), "text/csv")},
    )
    assert uploaded.status_code == 302
    mapping_page = console_a.get(uploaded.url).content.decode()
    assert '<label for="id_col_1">Mobile</label>' in mapping_page and "e.g. 0151 1234 5678" in mapping_page
    refused = post(console_a, uploaded.url, uploaded.url, {"col_0": "profile_name"})
    assert (
        refused.status_code == 422
        and "choose the column that holds the phone number" in refused.content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        started = post(
            console_a,
            uploaded.url,
            uploaded.url,
            {"col_0": "profile_name", "col_1": "phone", "default_country": "DE"},
        )
    assert started.status_code == 302
    progress = console_a.get(uploaded.url).content.decode()
    assert "1 created, 0 updated, 1 with errors" in progress and "Download the error report" in progress
    assert "hx-trigger" not in progress  # finished: no more polling
    partial = console_a.get(uploaded.url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section class="card stack" id="import-progress"')
    with in_tenant(tenant_a):
        job = ImportJob.objects.get()
    report = console_a.get(f"/app/contacts/import/{job.pk}/errors.csv")
    assert b"".join(report.streaming_content).decode().splitlines()[1].startswith("3,12,phone,")


def test_another_workspaces_ids_are_not_found(console_a, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        theirs = ContactFactory()
        definition = AttributeDefinition.objects.create(key="x", label="X", type="text")
        job = ImportJob.objects.create(filename="b.csv")
    for path in (
        f"/app/contacts/{theirs.pk}/",
        f"/app/contacts/{theirs.pk}/edit/",
        f"/app/contacts/{theirs.pk}/delete/",
        f"/app/contacts/import/{job.pk}/",
        f"/app/contacts/import/{job.pk}/errors.csv",
    ):
        assert console_a.get(path).status_code == 404, path
    for path in (
        f"/app/contacts/{theirs.pk}/tags/",
        f"/app/contacts/{theirs.pk}/consent/",
        f"/app/contacts/{theirs.pk}/block/",
        f"/app/contacts/{theirs.pk}/delete/",
        f"/app/contacts/attributes/{definition.pk}/delete/",
    ):
        assert post(console_a, "/app/contacts/", path, {"kind": "opt_out", "tags": "x"}).status_code == 404, (
            path
        )
    with in_tenant(tenant_b):
        assert Contact.objects.filter(pk=theirs.pk, opted_out=False).exists()
        assert AttributeDefinition.objects.filter(pk=definition.pk).exists()


def test_another_workspaces_session_is_sent_to_the_login_page(console_b, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        contact = ContactFactory()
    alpha = host_of(tenant_a)
    for path in (
        "/app/contacts/",
        f"/app/contacts/{contact.pk}/",
        "/app/contacts/new/",
        "/app/contacts/import/",
        "/app/contacts/attributes/",
        "/app/contacts/export.csv",
    ):
        response = console_b.get(path, HTTP_HOST=alpha)
        assert response.status_code == 302 and response.url.startswith("/app/login/"), path
    login = console_b.get("/app/login/", HTTP_HOST=alpha).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    response = console_b.post(
        f"/app/contacts/{contact.pk}/delete/", {"csrfmiddlewaretoken": token}, HTTP_HOST=alpha
    )
    assert response.status_code == 302 and response.url.startswith("/app/login/")
    with in_tenant(tenant_a):
        assert Contact.objects.filter(pk=contact.pk).exists()
