"""CSV import: upload and header reading, mapping checks, E.164 with a default country, dedupe on the
WhatsApp id, create-or-update, the per-row error report, progress, and the API's import endpoints."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import imports
from contacts.errors import ImportInvalid
from contacts.models import AttributeDefinition, ImportChunk, ImportJob
from messaging.models import Contact
from tests.messaging.factories import ContactFactory

CSV_TEXT = (
    "Name,Phone,Tier,Tags,City,Orders\n"
    'Jana Weber,0151 1234 5678,gold,"vip;newsletter",Berlin,3\n'
    "Known Customer,+44 7700 900123,,b2b,,\n"
    "No Number,,silver,,,\n"
    "Bad Orders,0151 7654 3210,,,Hamburg,many\n"
    '"Weber, Jana",+49 151 12345678,,"lead",,4\n'
    "Short,12,,,,\n"
)


@pytest.fixture
def definitions_a(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        AttributeDefinition.objects.create(key="city", label="City", type="text")
        AttributeDefinition.objects.create(key="orders", label="Orders", type="number")


def upload(text: str, size: int = 7) -> ImportJob:
    data = text.encode()
    return imports.import_upload(
        chunks=[data[i : i + size] for i in range(0, len(data), size)],
        filename="customers.csv",
        created_by="ana",
    )


MAPPING = {"0": "profile_name", "1": "phone", "2": "tier", "3": "tags", "4": "attr:city", "5": "attr:orders"}


def test_upload_reads_the_header_samples_and_guesses_the_mapping(tenant_a, in_tenant, definitions_a):
    with in_tenant(tenant_a):
        job = upload(CSV_TEXT)
        assert ImportChunk.objects.filter(job=job).count() == 1
    assert job.columns == ["Name", "Phone", "Tier", "Tags", "City", "Orders"]
    assert job.sample_rows[0] == ["Jana Weber", "0151 1234 5678", "gold", "vip;newsletter", "Berlin", "3"]
    assert job.sample_rows[4] == ["Weber, Jana", "+49 151 12345678", "", "lead", "", "4"]
    assert job.mapping == MAPPING
    assert job.status == ImportJob.Status.UPLOADED


def test_the_mapping_needs_a_phone_column_and_known_targets(tenant_a, in_tenant, definitions_a):
    with in_tenant(tenant_a):
        job = upload(CSV_TEXT)
        with pytest.raises(ImportInvalid) as refused:
            imports.import_start(
                job=job,
                mapping={"0": "profile_name", "2": "profile_name", "4": "attr:shoe", "9": "tier"},
                default_country="XX",
            )
    fields = {detail["field"] for detail in refused.value.details}
    assert fields == {"mapping", "mapping.2", "mapping.4", "mapping.9", "default_country"}
    with in_tenant(tenant_a):
        with pytest.raises(ImportInvalid):
            imports.import_upload(chunks=[b""], filename="empty.csv")


def test_run_normalises_dedupes_creates_updates_and_reports_errors(
    tenant_a, in_tenant, definitions_a, django_capture_on_commit_callbacks, sync_jobs
):
    with in_tenant(tenant_a):
        ContactFactory(
            wa_id="447700900123",
            profile_name="Known Customer",
            tier="platinum",
            tags=["old"],
            attributes={"city": "London"},
        )
        job = upload(CSV_TEXT)
        with django_capture_on_commit_callbacks(execute=True):
            imports.import_start(job=job, mapping=MAPPING, default_country="de")
        job.refresh_from_db()
        jana = Contact.objects.get(wa_id="4915112345678")
        known = Contact.objects.get(wa_id="447700900123")
        assert not ImportChunk.objects.filter(job=job).exists()  # the file is dropped once imported
        report = list(csv.reader(io.StringIO("".join(imports.import_errors_lines(job=job)))))

    assert job.status == ImportJob.Status.DONE
    assert (job.rows_total, job.rows_done, job.percent) == (6, 6, 100)
    assert (job.created_count, job.updated_count, job.error_count) == (1, 1, 3)
    # Row 2 and row 6 are the same number: imported once, the later row's cells win and tags add up.
    assert jana.profile_name == "Weber, Jana"
    assert jana.tier == "gold"
    assert jana.tags == ["vip", "newsletter", "lead"]
    assert jana.attributes == {"city": "Berlin", "orders": 4}
    # A known number keeps what the file leaves empty.
    assert (known.tier, known.tags, known.attributes) == ("platinum", ["old", "b2b"], {"city": "London"})
    assert report[0] == ["row", "phone", "field", "error"]
    assert [(row[0], row[2]) for row in report[1:]] == [
        ("4", "phone"),
        ("5", "attributes.orders"),
        ("7", "phone"),
    ]
    assert report[2][3] == "must be a number"


def test_the_api_uploads_starts_and_reports_an_import(
    api_a, tenant_a, in_tenant, definitions_a, django_capture_on_commit_callbacks, sync_jobs
):
    upload_file = SimpleUploadedFile("customers.csv", CSV_TEXT.encode(), content_type="text/csv")
    created = api_a.post("/api/v1/contacts/imports", {"file": upload_file})
    assert created.status_code == 201, created.content
    job_id = created.json()["id"]
    assert created.json()["columns"][1] == "Phone"
    refused = api_a.post_json(f"/api/v1/contacts/imports/{job_id}/start", {"mapping": {"0": "profile_name"}})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "import_invalid"
    with django_capture_on_commit_callbacks(execute=True):
        started = api_a.post_json(
            f"/api/v1/contacts/imports/{job_id}/start", {"mapping": MAPPING, "default_country": "DE"}
        )
    assert started.status_code == 200, started.content
    progress = api_a.get(f"/api/v1/contacts/imports/{job_id}").json()
    assert progress["status"] == "done" and progress["created_count"] == 2 and progress["error_count"] == 3
    report = api_a.get(f"/api/v1/contacts/imports/{job_id}/errors")
    assert b"".join(report.streaming_content).decode().count("\n") == 4
    with in_tenant(tenant_a):
        assert Contact.objects.count() == 2
    assert api_a.get("/api/v1/contacts/imports/999999").json()["error"]["code"] == "import_not_found"


def test_an_import_of_another_workspace_is_not_found(api_a, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        theirs = upload(CSV_TEXT)
    assert api_a.get(f"/api/v1/contacts/imports/{theirs.pk}").status_code == 404
    assert api_a.get(f"/api/v1/contacts/imports/{theirs.pk}/errors").status_code == 404


@pytest.mark.parametrize(
    "name, content",
    [
        ("photo.gif", b"GIF87a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x08\x04;"),
        ("table.xlsx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"),
    ],
)
def test_a_file_that_is_not_csv_text_is_refused_with_a_clear_error(api_a, name, content):
    response = api_a.post("/api/v1/contacts/imports", {"file": SimpleUploadedFile(name, content)})

    assert response.status_code == 422, response.content
    body = response.json()["error"]
    assert body["code"] == "import_invalid" and "CSV" in body["message"]
