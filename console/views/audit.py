"""Console page: the workspace's audit log, filtered by actor, object type, action and dates, paged
newest first, and the same selection as CSV. Reads only; the rows are written by the audit app."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone

from audit.models import AuditEntry
from audit.selectors import (
    AuditFilters,
    audit_actors,
    audit_csv_lines,
    audit_entries_page,
    audit_object_types,
)
from console.access import tenant_console_view
from console.downloads import csv_download
from platform_core.errors import DomainError
from tenants.context import TenantRequest

PAGE_SIZE = 50


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(label="Who", required=False)
    object_type = forms.ChoiceField(label="What", required=False)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *AuditEntry.Action.choices]
    )
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = dict(AuditEntry.ActorType.choices)
        cast(forms.ChoiceField, self.fields["actor"]).choices = [
            ("", "Anyone"),
            *[(f"{kind}:{pk}", f"{label} ({kinds.get(kind, kind)})") for kind, pk, label in audit_actors()],
        ]
        cast(forms.ChoiceField, self.fields["object_type"]).choices = [
            ("", "Anything"),
            *[(name, name) for name in audit_object_types()],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        kind, _, pk = (data.get("actor") or "").partition(":")
        since, until = data.get("since"), data.get("until")
        return AuditFilters(
            actor_type=kind,
            actor_id=int(pk) if pk.isdigit() else None,
            object_type=data.get("object_type") or "",
            action=data.get("action") or "",
            since=_day_start(since) if since else None,
            until=_day_start(until + timedelta(days=1)) if until else None,
        )

    def query(self) -> str:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return urlencode({name: value for name, value in data.items() if value not in (None, "")})


def _text(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value) or "(none)"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _changes_shown(entry: AuditEntry) -> list[dict[str, str]]:
    """Each changed field as text: `from` and `to`, or the members `added` and `removed`."""
    shown = []
    for name, change in (entry.changes or {}).items():
        if "added" in change or "removed" in change:
            moved = [f"{verb} {_text(change[verb])}" for verb in ("added", "removed") if change.get(verb)]
            shown.append({"name": name, "to": "; ".join(moved)})
        else:
            before = "" if entry.action == AuditEntry.Action.CREATE else _text(change.get("from"))
            after = "" if entry.action == AuditEntry.Action.DELETE else _text(change.get("to"))
            shown.append({"name": name, "from": before, "to": after})
    return shown


def _cursor(request: TenantRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


@tenant_console_view(area="audit")
def audit_log(request: TenantRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    error = ""
    try:
        entries, next_cursor = audit_entries_page(form.filters(), before_id=_cursor(request), limit=PAGE_SIZE)
    except DomainError as failure:
        entries, next_cursor, error = [], None, failure.message
    query = form.query()
    context = {
        "section": "audit",
        "form": form,
        "rows": [{"entry": entry, "changes": _changes_shown(entry)} for entry in entries],
        "error": error,
        "query": query,
        "next_url": f"?{query}&before={next_cursor}" if next_cursor else "",
        "first_url": f"?{query}" if _cursor(request) else "",
        "filtered": bool(query),
    }
    return render(request, "console/audit/list.html", context, status=422 if error else 200)


@tenant_console_view(area="audit")
def audit_export(request: TenantRequest) -> HttpResponseBase:
    form = AuditFilterForm(request.GET or None)
    return csv_download(
        request, lines=lambda: audit_csv_lines(form.filters()), filename="audit-log.csv", back="console:audit"
    )


urlpatterns: list[URLPattern] = [
    path("audit/", audit_log, name="audit"),
    path("audit/export.csv", audit_export, name="audit-export"),
]
