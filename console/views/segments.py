"""Console pages of segments (under /app/contacts/segments/): the list with live counts, the builder
(plain form posts; htmx refreshes the count and a preview while editing), a segment's contacts and
its CSV export. Included in console/views/contacts.py's urlpatterns.

The builder's rows are fields `c-<n>-rule` ("<kind>:<operator>"), `c-<n>-key` (an attribute) and
`c-<n>-value`; a row without a rule is ignored. Views stay thin over contacts.segments, whose
errors ({field: "definition.conditions[i]...."}) are shown on the row they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from console.access import tenant_console_view
from contacts import segments, selectors
from contacts.models import Segment
from contacts.schemas import opt_in_state
from platform_core.errors import DomainError
from tenants.context import TenantRequest

PAGE_SIZE = 50
BLANK_ROWS = 1
MAX_ROWS = segments.MAX_CONDITIONS
RULE_LABELS: dict[str, tuple[str, dict[str, str]]] = {
    "tags": (
        "Tags",
        {"has_any": "has any of", "has_all": "has all of", "has_none": "has none of"},
    ),
    "attribute": (
        "Attribute",
        {
            "equals": "equals",
            "not_equals": "does not equal",
            "greater": "is greater / later than",
            "less": "is less / earlier than",
            "is_set": "is set",
            "not_set": "is not set",
        },
    ),
    "opt_in": (
        "Marketing consent",
        {"opted_in": "opted in", "opted_out": "opted out", "unknown": "not recorded"},
    ),
    "blocked": ("Blocked", {"blocked": "is blocked", "not_blocked": "is not blocked"}),
    "activity": (
        "Activity",
        {
            "inbound_within_days": "wrote within N days",
            "never_wrote": "never wrote",
            "window_open": "service window open now",
        },
    ),
    "broadcast": (
        "Campaigns",
        {
            "received_within_days": "received a campaign message within N days",
            "replied_within_days": "replied to a campaign message within N days",
        },
    ),
}
_CONDITION_FIELD = re.compile(r"^definition\.conditions\[(\d+)\](?:\.(\w+))?$")


@dataclass
class Row:
    number: int
    rule: str = ""
    key: str = ""
    value: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class Builder:
    """The builder form's state: name, description, match, rows, and errors by field."""

    name: str = ""
    description: str = ""
    match: str = "all"
    rows: list[Row] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, segment: Segment) -> Builder:
        rows = [
            Row(
                number,
                rule=f"{condition['kind']}:{condition['operator']}",
                key=condition.get("key", ""),
                value=_value_text(condition.get("value")),
            )
            for number, condition in enumerate(segment.definition.get("conditions", []))
        ]
        return cls(segment.name, segment.description, segment.definition.get("match", "all"), rows)

    @classmethod
    def posted(cls, data: QueryDict) -> Builder:
        count = min(_int(data.get("rows")), MAX_ROWS)
        rows = [
            Row(n, data.get(f"c-{n}-rule", ""), data.get(f"c-{n}-key", ""), data.get(f"c-{n}-value", ""))
            for n in range(count)
        ]
        return cls(data.get("name", ""), data.get("description", ""), data.get("match", "all"), rows)

    def with_blank_rows(self, blanks: int = BLANK_ROWS) -> Builder:
        used = [row for row in self.rows if row.rule]
        room = max(0, MAX_ROWS - len(used))
        blank = [Row(0) for _ in range(min(blanks, room))]
        for number, row in enumerate(used + blank):
            row.number = number
        self.rows = used + blank
        return self

    def definition(self) -> dict[str, Any]:
        conditions = []
        for row in self.rows:
            if not row.rule:
                continue
            kind, _, operator = row.rule.partition(":")
            condition: dict[str, Any] = {"kind": kind, "operator": operator}
            if kind == "attribute":
                condition["key"] = row.key
            if row.value.strip() or kind == "attribute":
                condition["value"] = row.value
            conditions.append(condition)
        return {"match": self.match, "conditions": conditions}

    def errors_apply(self, error: DomainError) -> None:
        used = [row for row in self.rows if row.rule]
        for detail in error.details if isinstance(error.details, list) else []:
            name, message = str(detail.get("field", "")), str(detail.get("message", error.message))
            found = _CONDITION_FIELD.match(name)
            if found and int(found.group(1)) < len(used):
                part = found.group(2) or "condition"
                used[int(found.group(1))].errors.append(f"{part}: {message}" if part != "value" else message)
            else:
                self.errors.setdefault(name.removeprefix("definition."), []).append(message)
        if not any(row.errors for row in used) and not self.errors:
            self.errors["form"] = [error.message]


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _int(text: str | None) -> int:
    try:
        return max(0, int(text or 0))
    except ValueError:
        return 0


def _segment(segment_id: int) -> Segment:
    try:
        return segments.segment_get(segment_id=segment_id)
    except segments.SegmentNotFound:
        raise Http404("No such segment here.") from None


def _builder_context(builder: Builder, segment: Segment | None) -> dict[str, Any]:
    return {
        "section": "contacts",
        "builder": builder,
        "segment": segment,
        "rule_groups": [
            (label, [(f"{kind}:{operator}", text) for operator, text in operators.items()])
            for kind, (label, operators) in RULE_LABELS.items()
        ],
        "definitions": selectors.attribute_definitions(),
    }


def _preview(builder: Builder) -> dict[str, Any]:
    try:
        count, contacts = segments.segment_preview(definition=builder.definition())
    except DomainError as error:
        builder.errors_apply(error)
        return {"preview_error": True}
    return {"preview_count": count, "preview_contacts": contacts, "preview_size": segments.PREVIEW_SIZE}


# --- pages ---------------------------------------------------------------------------------------


@tenant_console_view(area="contacts")
def segment_list(request: TenantRequest) -> HttpResponse:
    context = {"section": "contacts", "rows": segments.segments_with_counts()}
    return render(request, "console/contacts/segments.html", context)


def _builder_page(request: TenantRequest, segment: Segment | None) -> HttpResponse:
    if request.method != "POST":
        builder = (Builder.of(segment) if segment else Builder()).with_blank_rows()
        context = _builder_context(builder, segment)
        if segment is not None:
            context.update(_preview(builder))
        return render(request, "console/contacts/segments_form.html", context)
    builder = Builder.posted(request.POST)
    if "add" in request.POST or "preview" in request.POST:
        context = _builder_context(builder, segment) | _preview(builder)
        builder.with_blank_rows(1 if "add" in request.POST else 0)
        return render(request, "console/contacts/segments_form.html", context)
    try:
        name, description, definition = builder.name, builder.description, builder.definition()
        if segment is None:
            saved = segments.segment_create(name=name, description=description, definition=definition)
        else:
            saved = segments.segment_update(
                segment=segment, name=name, description=description, definition=definition
            )
    except DomainError as error:
        builder.errors_apply(error)
        context = _builder_context(builder, segment)
        return render(request, "console/contacts/segments_form.html", context, status=422)
    messages.success(request, f"Segment {saved.name} saved.")
    return redirect("console:segment", saved.pk)


@tenant_console_view(area="contacts")
@require_http_methods(["GET", "POST"])
def segment_create(request: TenantRequest) -> HttpResponse:
    return _builder_page(request, None)


@tenant_console_view(area="contacts")
@require_http_methods(["GET", "POST"])
def segment_edit(request: TenantRequest, segment_id: int) -> HttpResponse:
    return _builder_page(request, _segment(segment_id))


@tenant_console_view(area="contacts")
@require_POST
def segment_preview(request: TenantRequest) -> HttpResponse:
    """The builder's live count (htmx): the count and the first contacts, or what is wrong."""
    builder = Builder.posted(request.POST)
    context = {"builder": builder} | _preview(builder)
    return render(request, "console/contacts/segments_preview.html", context)


@tenant_console_view(area="contacts")
def segment_detail(request: TenantRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    cursor = request.GET.get("cursor") or None
    try:
        page, next_cursor = segments.segment_contacts_page(segment=segment, cursor=cursor, limit=PAGE_SIZE)
    except DomainError:
        raise Http404("No such page.") from None
    context = {
        "section": "contacts",
        "segment": segment,
        "count": segments.segment_contacts(definition=segment.definition).count(),
        "rows": [{"contact": contact, "opt_in": opt_in_state(contact)} for contact in page],
        "next_url": f"?cursor={next_cursor}" if next_cursor else "",
        "first_url": "?" if cursor else "",
        "conditions": Builder.of(segment).rows,
        "rule_labels": {
            f"{kind}:{operator}": f"{label} {text}"
            for kind, (label, operators) in RULE_LABELS.items()
            for operator, text in operators.items()
        },
    }
    return render(request, "console/contacts/segments_detail.html", context)


@tenant_console_view(area="contacts")
def segment_export(request: TenantRequest, segment_id: int) -> StreamingHttpResponse:
    segment = _segment(segment_id)
    response = StreamingHttpResponse(
        segments.segment_export_lines(segment=segment), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
    return response


@tenant_console_view(area="contacts")
@require_POST
def segment_delete(request: TenantRequest, segment_id: int) -> HttpResponseBase:
    segment = _segment(segment_id)
    segments.segment_delete(segment=segment)
    messages.success(request, f"Segment {segment.name} deleted; its contacts are kept.")
    return redirect("console:segments")


urlpatterns = [
    path("contacts/segments/", segment_list, name="segments"),
    path("contacts/segments/new/", segment_create, name="segment-new"),
    path("contacts/segments/preview/", segment_preview, name="segment-preview"),
    path("contacts/segments/<int:segment_id>/", segment_detail, name="segment"),
    path("contacts/segments/<int:segment_id>/edit/", segment_edit, name="segment-edit"),
    path("contacts/segments/<int:segment_id>/export.csv", segment_export, name="segment-export"),
    path("contacts/segments/<int:segment_id>/delete/", segment_delete, name="segment-delete"),
]
