"""Statements as PDF: the same lines and totals as the CSV, on the tenant API, the tenant console and
the platform console; another tenant's statement is not found."""

from __future__ import annotations

import re
import zlib
from decimal import Decimal

from django.utils import timezone

from billing.plans.models import PlanVersion
from billing.plans.periods import period_bounds
from billing.statements import statement_close
from tests.billing.factories import delivered, outbound, plan_version, pricing, subscribe


def pdf_text(document: bytes) -> str:
    """The text drawn on the PDF's pages: each compressed content stream inflated, its strings joined."""
    assert document.startswith(b"%PDF-")
    assert document.rstrip().endswith(b"%%EOF")
    shown = []
    # Each stream is exactly /Length bytes: compressed bytes may end in a CR, which a search for
    # "endstream" would take for the line end and cut off.
    for header in re.finditer(rb"/Length (\d+)[^>]*>>\s*stream\r?\n", document):
        stream = document[header.end() : header.end() + int(header.group(1))]
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue
        for match in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", content):
            shown.append(re.sub(rb"\\([()\\])", rb"\1", match).decode("latin-1"))
    return "\n".join(shown)


def billed_statement(tenant, in_tenant):
    version = plan_version(
        included_messages={"marketing": 1},
        overage_rates={"marketing": "0.05"},
        overage_policy=PlanVersion.OveragePolicy.BILL,
        markup_percent=Decimal("10"),
    )
    subscription = subscribe(tenant, version, tax_percent=Decimal("20"))
    with in_tenant(tenant):
        for _ in range(3):
            delivered(outbound(), pricing("marketing"))
    start, end = period_bounds(anchor_day=subscription.anchor_day, at=timezone.now())
    return statement_close(tenant=tenant, period_start=start, period_end=end)


def test_the_pdf_has_the_csvs_lines_and_totals(api_a, tenant_a, in_tenant):
    statement = billed_statement(tenant_a, in_tenant)

    response = api_a.get(f"/api/v1/billing/statements/{statement.pk}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-{statement.period_start:%Y-%m-%d}.pdf"'
    )
    text = pdf_text(response.content)
    assert "Statement - Alpha Coffee" in text
    for line in statement.lines.all():
        assert line.description in text
        assert str(line.amount) in text
    assert str(statement.subtotal) in text
    assert "Tax (20 %)" in text and str(statement.tax_amount) in text
    assert f"{statement.total} USD" in text
    assert statement.lines.count() == 3  # plan fee, overage, Meta's cost


def test_the_consoles_download_the_pdf(console_a, platform_console, tenant_a, in_tenant):
    statement = billed_statement(tenant_a, in_tenant)

    tenant_copy = console_a.get(f"/app/billing/statements/{statement.pk}/pdf")
    platform_copy = platform_console.get(f"/app/billing/statements/{statement.pk}/pdf")

    assert tenant_copy.status_code == 200 and tenant_copy["Content-Type"] == "application/pdf"
    assert platform_copy.status_code == 200
    assert f"{statement.total} USD" in pdf_text(tenant_copy.content)
    assert f"{statement.total} USD" in pdf_text(platform_copy.content)
    assert f"/app/billing/statements/{statement.pk}/pdf" in console_a.get("/app/billing/").content.decode()
    assert (
        f"/app/billing/statements/{statement.pk}/pdf"
        in platform_console.get("/app/billing/").content.decode()
    )


def test_another_tenants_statement_pdf_is_404(api_b, console_b, platform_console, tenant_a, in_tenant):
    statement = billed_statement(tenant_a, in_tenant)

    response = api_b.get(f"/api/v1/billing/statements/{statement.pk}/pdf")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert console_b.get(f"/app/billing/statements/{statement.pk}/pdf").status_code == 404
    assert platform_console.get("/app/billing/statements/999999/pdf").status_code == 404
