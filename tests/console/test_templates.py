"""The templates pages: the list with statuses and reasons, the editor with Meta's rules next to each
field and a phone preview, copy to a language, starters, the media library and the business profile;
another tenant's ids are 404 and another tenant's session goes to the login page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import host_of
from tests.console.test_auth import _csrf
from tests.factories import PhoneNumberFactory, TemplateFactory
from tests.flows_builder.factories import (
    ACCESS_TOKEN,
    APP_ID,
    APP_SECRET,
    PHONE_NUMBER_ID,
    WABA_ID,
    WhatsAppAccountFactory,
)
from waba.models import BusinessProfile, MediaAsset, MessageTemplate

PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 1000


@pytest.fixture
def sim(graph_simulator):
    graph_simulator.seed(
        {
            "apps": [{"app_id": APP_ID, "app_secret": APP_SECRET}],
            "wabas": [
                {
                    "id": WABA_ID,
                    "app_id": APP_ID,
                    "phone_numbers": [{"id": PHONE_NUMBER_ID, "display_phone_number": "+1 555-010-0777"}],
                }
            ],
            "tokens": [{"token": ACCESS_TOKEN, "app_id": APP_ID, "waba_ids": [WABA_ID]}],
            "config": {"template_review_delay_s": 0},
        }
    )
    return graph_simulator


@pytest.fixture
def account(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account = WhatsAppAccountFactory.create()
        PhoneNumberFactory.create(
            account=account, phone_number_id=PHONE_NUMBER_ID, display_phone_number="+1 555-010-0777"
        )
        return account


def editor_post(client, path, **values):
    data = {
        "csrfmiddlewaretoken": _csrf(client, path),
        "language": "en_US",
        "category": "UTILITY",
        "header_format": "",
        "body_text": "",
        "action": "submit",
        **values,
    }
    return client.post(path, data)


def test_the_list_shows_each_template_with_its_status_and_rejection_reason(
    console_a, account, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        TemplateFactory(account=account, name="order_update", status="APPROVED", quality_score="GREEN")
        TemplateFactory(
            account=account, name="promo_blast", status="REJECTED", rejection_reason="PROMOTIONAL"
        )

    page = console_a.get("/app/templates/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "order_update" in html and 'badge badge-ok">Approved' in html
    assert "promo_blast" in html and 'badge badge-bad">Rejected' in html and "Reason: PROMOTIONAL" in html
    assert "Starter templates" in html and "One-time code" in html


def test_the_editor_shows_each_rule_next_to_its_field_and_meta_is_not_asked(
    console_a, account, sim, tenant_a, in_tenant
):
    response = editor_post(
        console_a,
        "/app/templates/new/",
        account=account.pk,
        name="order_update",
        body_text="{{1}} your order is ready",
        footer_text="Thanks {{1}}",
        button_0_type="URL",
        button_0_text="Track",
        button_0_value="https://alpha.example/t/{{1}}",
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "A variable cannot be the first or last thing in the body." in html
    assert 'id="id_body_text_errors"' in html
    assert 'id="id_footer_text_errors"' in html and "A footer cannot hold variables." in html
    assert 'id="id_button_0_sample_errors"' in html and "Give a full sample URL" in html
    assert sim.requests(path_contains="message_templates") == []
    with in_tenant(tenant_a):
        assert not MessageTemplate.objects.exists()


def test_a_template_is_sent_for_review_with_its_samples(console_a, account, sim, tenant_a, in_tenant):
    response = editor_post(
        console_a,
        "/app/templates/new/",
        account=account.pk,
        name="order_update",
        header_format="TEXT",
        header_text="Order {{1}}",
        header_sample="A-1",
        body_text="Hi {{1}}, your order {{2}} is ready.",
        body_samples="Ana\nA-1",
        footer_text="Alpha Solar",
        button_0_type="QUICK_REPLY",
        button_0_text="Thanks",
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    sent = sim.requests(path_contains="message_templates", method="POST")[-1]
    assert sent["object_id"] == WABA_ID
    assert sent["body"] == {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} is ready.",
                "example": {"body_text": [["Ana", "A-1"]]},
            },
            {"type": "FOOTER", "text": "Alpha Solar"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}]},
        ],
    }
    page = console_a.get(response["Location"])
    html = page.content.decode()
    assert "Pending" in html and "Hi Ana, your order A-1 is ready." in html  # the preview with samples
    assert 'class="phone-preview"' in html


def test_the_preview_follows_the_form_with_and_without_javascript(console_a, account):
    values = {
        "account": account.pk,
        "name": "x",
        "body_text": "Hello {{1}}!",
        "body_samples": "Ana",
        "action": "preview",
    }
    plain = editor_post(console_a, "/app/templates/new/", **values)
    assert plain.status_code == 200 and "Hello Ana!" in plain.content.decode()

    token = _csrf(console_a, "/app/templates/new/")
    partial = console_a.post(
        "/app/templates/new/", {**values, "csrfmiddlewaretoken": token}, HTTP_HX_REQUEST="true"
    )
    html = partial.content.decode()
    assert partial.status_code == 200 and "Hello Ana!" in html and "<form" not in html


def test_editing_an_approved_template_goes_to_meta_and_copy_makes_a_draft(
    console_a, account, sim, tenant_a, in_tenant
):
    editor_post(
        console_a,
        "/app/templates/new/",
        account=account.pk,
        name="welcome",
        body_text="Welcome {{1}} to us.",
        body_samples="Ana",
    )
    console_a.get("/app/templates/")
    with in_tenant(tenant_a):
        template = MessageTemplate.objects.get()
        template.status = "APPROVED"
        template.save()

    page = console_a.get(f"/app/templates/{template.pk}/")
    assert "Meta allows 1 edit per 24 hours" in page.content.decode()
    response = editor_post(
        console_a,
        f"/app/templates/{template.pk}/",
        action="save",
        body_text="Welcome {{1}}, glad you are here.",
        body_samples="Ana",
    )
    assert response.status_code == 302
    edit = sim.requests(method="POST", path_contains=template.meta_template_id)[-1]
    assert edit["body"]["components"][0]["text"] == "Welcome {{1}}, glad you are here."
    with in_tenant(tenant_a):
        assert MessageTemplate.objects.get(pk=template.pk).status == "PENDING"

    token = _csrf(console_a, f"/app/templates/{template.pk}/")
    copied = console_a.post(
        f"/app/templates/{template.pk}/copy/", {"csrfmiddlewaretoken": token, "language": "de"}
    )
    assert copied.status_code == 302
    with in_tenant(tenant_a):
        german = MessageTemplate.objects.get(language="de")
    assert german.status == "DRAFT" and copied["Location"] == f"/app/templates/{german.pk}/"


def test_a_starter_is_adopted_as_a_draft(console_a, account, tenant_a, in_tenant):
    token = _csrf(console_a, "/app/templates/")
    response = console_a.post(
        "/app/templates/starters/one_time_code/adopt/",
        {"csrfmiddlewaretoken": token, "account": account.pk, "language": "en_US"},
    )
    assert response.status_code == 302
    with in_tenant(tenant_a):
        adopted = MessageTemplate.objects.get()
    assert adopted.name == "one_time_code" and adopted.status == "DRAFT"
    assert adopted.components[-1]["buttons"][0]["type"] == "COPY_CODE"
    page = console_a.get(response["Location"]).content.decode()
    assert "Send for review" in page and 'value="482913"' in page


def test_media_library_uploads_and_refuses_what_meta_would(console_a, account, sim, tenant_a, in_tenant):
    token = _csrf(console_a, "/app/templates/media/")
    too_big = console_a.post(
        "/app/templates/media/",
        {"csrfmiddlewaretoken": token, "account": account.pk, "purpose": "message",
         "file": SimpleUploadedFile("big.png", b"x" * (5 * 1024 * 1024 + 1), content_type="image/png")},
    )  # fmt: skip
    assert too_big.status_code == 422 and "Too large for a image: at most 5 MB" in too_big.content.decode()
    assert sim.requests(path_contains="/media") == []

    ok = console_a.post(
        "/app/templates/media/",
        {"csrfmiddlewaretoken": token, "account": account.pk, "purpose": "message",
         "file": SimpleUploadedFile("menu.png", PNG, content_type="image/png")},
    )  # fmt: skip
    assert ok.status_code == 302
    with in_tenant(tenant_a):
        asset = MediaAsset.objects.get()
    page = console_a.get("/app/templates/media/").content.decode()
    assert "menu.png" in page
    detail = console_a.get(f"/app/templates/media/{asset.pk}/").content.decode()
    assert asset.media_id in detail


def test_the_business_profile_form_pushes_to_whatsapp(console_a, account, sim, tenant_a, in_tenant):
    path = f"/app/templates/profile/{account.pk}/"
    page = console_a.get(path)
    assert page.status_code == 200 and 'for="id_about"' in page.content.decode()
    token = _csrf(console_a, path)
    response = console_a.post(
        path,
        {"csrfmiddlewaretoken": token, "about": "Solar panels", "email": "hi@alpha.example",
         "website_1": "https://alpha.example", "website_2": "", "vertical": "RETAIL"},
    )  # fmt: skip
    assert response.status_code == 302
    sent = sim.requests(method="POST", path_contains="whatsapp_business_profile")[-1]
    assert sent["object_id"] == PHONE_NUMBER_ID
    assert sent["body"]["about"] == "Solar panels" and sent["body"]["websites"] == ["https://alpha.example"]
    with in_tenant(tenant_a):
        assert BusinessProfile.objects.get(account=account).vertical == "RETAIL"
    assert "Solar panels" in console_a.get(path).content.decode()


def test_another_tenants_ids_are_not_found(console_b, account, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        template = TemplateFactory(account=account, name="order_update")
        asset = MediaAsset.objects.create(
            account=account, name="a.png", media_type="image", content_type="image/png", size_bytes=1, sha256="x",
            uploaded_at="2026-01-01T00:00:00Z",
        )  # fmt: skip
    for path in (
        f"/app/templates/{template.pk}/",
        f"/app/templates/media/{asset.pk}/",
        f"/app/templates/profile/{account.pk}/",
    ):
        assert console_b.get(path).status_code == 404, path


def test_another_tenants_session_goes_to_the_login_page(console_b, account, tenant_a):
    for path in ("/app/templates/", "/app/templates/media/", f"/app/templates/profile/{account.pk}/"):
        response = console_b.get(path, HTTP_HOST=host_of(tenant_a))
        assert response.status_code == 302 and "/app/login/" in response["Location"], path


def test_a_category_change_by_meta_is_shown_on_the_template(console_a, account, tenant_a, in_tenant):
    from waba.models import AccountEventLog

    with in_tenant(tenant_a):
        template = TemplateFactory(
            account=account,
            name="order_update",
            status="APPROVED",
            category="MARKETING",
            meta_template_id="5551",
        )
        AccountEventLog.objects.create(
            account=account, waba_id=account.waba_id, field="template_category_update", subject="template:5551",
            value={"previous_category": "UTILITY", "new_category": "MARKETING"}, digest="d1",
        )  # fmt: skip
    html = console_a.get(f"/app/templates/{template.pk}/").content.decode()
    assert "Meta changed the category from Utility to Marketing" in html


# --- the media-library picker for a media header's sample -------------------------------------------


def _sample_upload(client, account, name, data, content_type):
    token = _csrf(client, "/app/templates/media/")
    response = client.post(
        "/app/templates/media/",
        {"csrfmiddlewaretoken": token, "account": account.pk, "purpose": "sample",
         "file": SimpleUploadedFile(name, data, content_type=content_type)},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    return MediaAsset.objects.get(name=name)


def test_a_media_header_takes_its_sample_from_the_media_library(console_a, account, sim, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        photo = _sample_upload(console_a, account, "storefront.png", PNG, "image/png")
        leaflet = _sample_upload(console_a, account, "menu.pdf", b"%PDF-1.7 menu", "application/pdf")
        MediaAsset.objects.create(
            account=account, name="sent-once.png", media_type="image", content_type="image/png", size_bytes=1,
            sha256="x", media_id="123", uploaded_at="2026-01-01T00:00:00Z",
        )  # fmt: skip  (message media has no handle: not a template sample)
    assert photo.handle.startswith("4::")  # the resumable upload's handle

    editor = console_a.get(f"/app/templates/new/?account={account.pk}").content.decode()
    picker = editor[editor.index('id="id_header_asset"') : editor.index("</select>", editor.index('id="id_header_asset"'))]
    assert 'label="Images"' in picker and f'value="{photo.pk}" data-format="IMAGE"' in picker
    assert 'label="Documents"' in picker and f'value="{leaflet.pk}" data-format="DOCUMENT"' in picker
    assert "storefront.png" in picker and "sent-once.png" not in picker

    response = editor_post(
        console_a, "/app/templates/new/", account=account.pk, name="new_shop", header_format="IMAGE",
        header_asset=photo.pk, body_text="Our new shop is open.",
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:2000]
    sent = sim.requests(path_contains="message_templates", method="POST")[-1]
    assert sent["body"]["components"][0] == {
        "type": "HEADER", "format": "IMAGE", "example": {"header_handle": [photo.handle]}}
    page = console_a.get(response["Location"]).content.decode()
    assert f'<option value="{photo.pk}" data-format="IMAGE" selected>' in page  # the saved sample is the pick


def test_a_picked_sample_of_another_type_or_workspace_is_refused_next_to_the_field(
    console_a, account, sim, tenant_a, tenant_b, in_tenant
):
    with in_tenant(tenant_a):
        leaflet = _sample_upload(console_a, account, "menu.pdf", b"%PDF-1.7 menu", "application/pdf")
    with in_tenant(tenant_b):
        theirs = MediaAsset.objects.create(
            account=WhatsAppAccountFactory.create(waba_id="990001"), purpose="sample", name="beta.png",
            media_type="image", content_type="image/png", size_bytes=1, sha256="x", handle="4::beta",
            uploaded_at="2026-01-01T00:00:00Z",
        )  # fmt: skip

    wrong_type = editor_post(
        console_a, "/app/templates/new/", account=account.pk, name="new_shop", header_format="IMAGE",
        header_asset=leaflet.pk, body_text="Our new shop is open.",
    )  # fmt: skip
    elsewhere = editor_post(
        console_a, "/app/templates/new/", account=account.pk, name="new_shop", header_format="IMAGE",
        header_asset=theirs.pk, body_text="Our new shop is open.",
    )  # fmt: skip

    assert wrong_type.status_code == 422
    assert "menu.pdf is a document file; this header takes image files." in wrong_type.content.decode()
    assert 'id="id_header_sample_errors"' in wrong_type.content.decode()
    assert elsewhere.status_code == 422
    assert "Pick a sample of this template&#x27;s WhatsApp account" in elsewhere.content.decode()
    assert "beta.png" not in elsewhere.content.decode()
    assert sim.requests(path_contains="message_templates", method="POST") == []
