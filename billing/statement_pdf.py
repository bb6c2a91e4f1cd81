"""A statement as PDF: the same lines, subtotal, tax and total as its CSV (billing.statements.statement_csv).

Drawn with fpdf2's built-in Helvetica, which covers Latin-1: any other character is shown as `?`.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from billing.plans.models import Statement

COLUMNS = (("Item", 95, "L"), ("Quantity", 25, "R"), ("Unit price", 30, "R"), ("Amount", 30, "R"))


def _latin1(text: str) -> str:
    return text.replace("\u2013", "-").replace("\u2014", "-").encode("latin-1", "replace").decode("latin-1")


def _row(pdf: FPDF, cells: tuple[str, ...], *, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 10)
    for (_, width, align), text in zip(COLUMNS, cells, strict=True):
        pdf.cell(width, 7, _latin1(text), border="B", align=align)
    pdf.ln(7)


def statement_pdf(*, statement: Statement) -> bytes:
    """The statement as a one-table PDF document (public schema read only)."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Statement {statement.period_start:%Y-%m-%d}")
    pdf.set_creator("WhatsApp platform billing")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Statement - {statement.tenant.name}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    for text in (
        f"Period: {statement.period_start:%d %b %Y} to {statement.period_end:%d %b %Y} (UTC)",
        f"Plan: {statement.plan_version}",
        f"Closed: {statement.closed_at:%d %b %Y %H:%M} UTC",
        f"Currency: {statement.currency}",
    ):
        pdf.cell(0, 6, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    _row(pdf, tuple(name for name, _, _ in COLUMNS), bold=True)
    for line in statement.lines.order_by("position"):
        _row(
            pdf,
            (
                f"{line.description} ({line.get_kind_display().lower()})",
                str(line.quantity),
                f"{line.unit_price.normalize():f}",
                str(line.amount),
            ),
        )
    pdf.ln(2)
    _row(pdf, ("Subtotal", "", "", str(statement.subtotal)))
    _row(pdf, (f"Tax ({statement.tax_percent.normalize():f} %)", "", "", str(statement.tax_amount)))
    _row(pdf, ("Total", "", "", f"{statement.total} {statement.currency}"), bold=True)
    return bytes(pdf.output())
