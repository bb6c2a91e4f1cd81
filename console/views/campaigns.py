"""Console pages of campaigns: the list, the composer (audience, templates as A/B variants with each
variable's source, schedule, the messaging-limit pre-check before creating), a campaign's figures
per variant (refreshed by htmx while it sends) with pause, resume and cancel.

The composer is one plain form. Its variable rows depend on the chosen template, so choosing one
reloads the rows (htmx, or the "Check" button without JavaScript); "Check" shows the pre-check,
"Create campaign" creates it. Views stay thin over broadcasts.campaigns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods, require_POST

from broadcasts import campaigns
from broadcasts.figures import (
    campaign_figures,
    campaign_numbers,
    campaign_state,
    campaign_templates,
    campaigns_progress,
    local_time,
)
from broadcasts.models import Broadcast
from broadcasts.schemas import CampaignIn
from broadcasts.selectors import broadcast_get, broadcasts_list
from broadcasts.services import broadcast_cancel
from console.access import tenant_console_view
from contacts.segments import segments_by_name
from contacts.selectors import attribute_definitions
from platform_core.errors import DomainError
from tenants.context import TenantRequest
from waba.models import MessageTemplate

AREA = "campaigns"
VARIANTS = ("a", "b")
SOURCES = [
    ("name", "Contact name"),
    ("phone", "Phone number"),
    ("tier", "Tier"),
    ("language", "Language"),
    ("text", "Fixed text"),
]
LIVE_STATES = ("queuing", "scheduled", "running")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass
class VariableRow:
    part: str  # header or body
    position: int
    source: str = "name"
    value: str = ""

    @property
    def prefix(self) -> str:
        return f"{self.part}-{self.position}"


@dataclass
class VariantForm:
    key: str
    template_id: str = ""
    share: str = ""
    media_link: str = ""
    template: MessageTemplate | None = None
    rows: list[VariableRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.key.upper()

    @property
    def needs_media(self) -> bool:
        return bool(self.template and (self.template.parameter_counts or {}).get("header") and self._header_format != "TEXT")

    @property
    def _header_format(self) -> str:
        for component in (self.template.components if self.template else None) or []:
            if isinstance(component, dict) and component.get("type") == "HEADER":
                return str(component.get("format") or "TEXT").upper()
        return "TEXT"


def _variant_form(data: QueryDict, key: str, templates: dict[str, MessageTemplate]) -> VariantForm:
    variant = VariantForm(
        key=key,
        template_id=data.get(f"{key}-template", ""),
        share=data.get(f"{key}-share", ""),
        media_link=data.get(f"{key}-media", "").strip(),
    )
    variant.template = templates.get(variant.template_id)
    if variant.template is not None:
        counts = variant.template.parameter_counts or {}
        header_text = variant._header_format == "TEXT"
        parts = [("header", counts.get("header", 0) if header_text else 0), ("body", variant.template.variable_count)]
        for part, count in parts:
            for position in range(count):
                row = VariableRow(part=part, position=position)
                row.source = data.get(f"{key}-{row.prefix}-source", "name")
                row.value = data.get(f"{key}-{row.prefix}-value", "")
                variant.rows.append(row)
    return variant


def _source(row: VariableRow) -> dict[str, Any]:
    if row.source == "text":
        return {"text": row.value}
    if row.source.startswith("attr:"):
        return {"attribute": row.source.removeprefix("attr:"), "fallback": row.value}
    return {"field": row.source, "fallback": row.value}


def _phones(request: TenantRequest) -> list[str]:
    """Numbers pasted (one per line or comma) and from an uploaded CSV's first column."""
    phones = [part.strip() for line in request.POST.get("phones", "").splitlines() for part in line.split(",")]
    upload = request.FILES.get("phones_file")
    if upload is not None and (upload.size or 0) <= MAX_UPLOAD_BYTES:
        text = upload.read().decode("utf-8-sig", errors="replace")
        for record in csv.reader(io.StringIO(text)):
            if record and any(ch.isdigit() for ch in record[0]):
                phones.append(record[0].strip())
    return [phone for phone in phones if phone]


def _request(request: TenantRequest, variants: list[VariantForm]) -> dict[str, Any]:
    data = request.POST
    kind = data.get("audience", "segment")
    audience: dict[str, Any] = {}
    if kind == "segment" and data.get("segment"):
        audience["segment_id"] = data.get("segment")
    elif kind == "tags":
        audience["tags"] = [tag.strip() for tag in data.get("tags", "").split(",") if tag.strip()]
    elif kind == "phones":
        audience["phones"] = _phones(request)
    chosen = [variant for variant in variants if variant.template is not None]
    body: dict[str, Any] = {
        "name": data.get("name", "").strip(),
        "phone_number_id": data.get("phone_number_id", ""),
        "audience": audience,
        "over_limit": data.get("over_limit", "refuse"),
        "variants": [
            {
                "label": variant.label,
                "template": {"name": variant.template.name, "language": variant.template.language},
                **({"share": int(variant.share)} if len(chosen) > 1 and variant.share.isdigit() else {}),
                "header": [_source(row) for row in variant.rows if row.part == "header"],
                "body": [_source(row) for row in variant.rows if row.part == "body"],
                **(
                    {"header_parameters": [{"type": variant._header_format.lower(), variant._header_format.lower(): _media(variant.media_link)}]}
                    if variant.needs_media and variant.media_link
                    else {}
                ),
            }
            for variant in chosen
            if variant.template is not None
        ],
    }
    if data.get("when") == "later":
        body["send_at"] = data.get("send_at") or None
        body["timezone"] = data.get("timezone", "").strip() or None
    return body


def _media(value: str) -> dict[str, str]:
    return {"link": value} if value.startswith(("http://", "https://")) else {"id": value}


def _composer(request: TenantRequest, *, precheck: dict[str, Any] | None = None, errors: list[str] | None = None,
              status: int = 200) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    numbers = list(campaign_numbers())
    chosen_number = next((n for n in numbers if n.phone_number_id == data.get("phone_number_id")), numbers[0] if numbers else None)
    templates = {str(t.pk): t for t in campaign_templates(phone=chosen_number)} if chosen_number else {}
    variants = [_variant_form(data, key, templates) for key in VARIANTS]
    sources = SOURCES + [(f"attr:{d.key}", f"Attribute: {d.label}") for d in attribute_definitions()]
    context = {
        "section": AREA,
        "numbers": numbers,
        "chosen_number": chosen_number,
        "templates": templates.values(),
        "segments": segments_by_name(),
        "variants": variants,
        "sources": sources,
        "data": data,
        "precheck": precheck,
        "errors": errors or [],
        "zone": data.get("timezone") or (chosen_number.account.timezone if chosen_number else "") or "UTC",
    }
    return render(request, "console/campaigns/new.html", context, status=status)


def _error_lines(error: DomainError) -> list[str]:
    lines = [error.message]
    if isinstance(error.details, list):
        lines += [f"{d.get('field', '')}: {d.get('message', '')}" for d in error.details if isinstance(d, dict)][:20]
    return lines


@tenant_console_view(area=AREA)
def campaign_list(request: TenantRequest) -> HttpResponse:
    rows = []
    broadcasts = list(broadcasts_list()[:100])
    progress = campaigns_progress(broadcasts=broadcasts)
    for broadcast in broadcasts:
        figures = progress[broadcast.pk]
        rows.append(
            {
                "campaign": broadcast,
                "state": campaign_state(broadcast=broadcast, figures=figures),
                "totals": figures.totals,
                "send_at_local": local_time(broadcast.send_at, broadcast.timezone),
            }
        )
    return render(request, "console/campaigns/list.html", {"section": AREA, "rows": rows})


@tenant_console_view(area=AREA)
@require_http_methods(["GET", "POST"])
def campaign_new(request: TenantRequest) -> HttpResponseBase:
    if request.method == "GET" or request.POST.get("action") == "reload":
        return _composer(request)
    numbers = {n.phone_number_id: n for n in campaign_numbers()}
    phone = numbers.get(request.POST.get("phone_number_id", ""))
    templates = {str(t.pk): t for t in campaign_templates(phone=phone)} if phone else {}
    variants = [_variant_form(request.POST, key, templates) for key in VARIANTS]
    try:
        payload = CampaignIn.model_validate(_request(request, variants))
    except ValueError as invalid:
        return _composer(request, errors=[_pydantic_line(e) for e in getattr(invalid, "errors", lambda: [])()] or [str(invalid)], status=422)
    try:
        if request.POST.get("action") == "create":
            broadcast = campaigns.campaign_create(request=payload, created_by=request.user.get_username())
            messages.success(request, f"Campaign “{broadcast.name}” created.")
            return redirect("console:campaign", broadcast.pk)
        return _composer(request, precheck=campaigns.campaign_precheck(request=payload).as_dict())
    except DomainError as error:
        precheck = error.details if error.code == campaigns.CampaignOverLimit.code and isinstance(error.details, dict) else None
        return _composer(request, precheck=precheck, errors=_error_lines(error), status=error.status)


def _pydantic_line(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", ""))


def _campaign(campaign_id: int) -> Broadcast:
    try:
        return broadcast_get(broadcast_id=campaign_id)
    except Broadcast.DoesNotExist:
        raise Http404("No such campaign in this workspace.") from None


def _detail_context(broadcast: Broadcast) -> dict[str, Any]:
    figures = campaign_figures(broadcast=broadcast)
    state = campaign_state(broadcast=broadcast, figures=figures)
    totals = figures.totals
    done = totals.recipients - totals.queued
    return {
        "section": AREA,
        "campaign": broadcast,
        "state": state,
        "live": state in LIVE_STATES,
        "totals": totals,
        "variants": figures.variants,
        "percent_done": round(100 * done / totals.recipients) if totals.recipients else 100,
        "send_at_local": local_time(broadcast.send_at, broadcast.timezone),
        "precheck": broadcast.precheck,
    }


@tenant_console_view(area=AREA)
def campaign_detail(request: TenantRequest, campaign_id: int) -> HttpResponse:
    context = _detail_context(_campaign(campaign_id))
    if request.headers.get("HX-Request") == "true":
        return render(request, "console/campaigns/_figures.html", context)
    return render(request, "console/campaigns/detail.html", context)


@tenant_console_view(area=AREA)
@require_POST
def campaign_action(request: TenantRequest, campaign_id: int, action: str) -> HttpResponseBase:
    broadcast = _campaign(campaign_id)
    try:
        if action == "pause":
            campaigns.campaign_pause(broadcast=broadcast)
            messages.success(request, "Paused: no more messages go out until you resume.")
        elif action == "resume":
            campaigns.campaign_resume(broadcast=broadcast)
            messages.success(request, "Resumed: the remaining messages go out from now.")
        elif action == "cancel":
            broadcast_cancel(broadcast=broadcast, reason=request.POST.get("reason", "")[:400])
            messages.success(request, "Cancelled: messages not yet sent will not be sent.")
        else:
            raise Http404("No such action.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("console:campaign", broadcast.pk)


urlpatterns: list[URLPattern] = [
    path("campaigns/", campaign_list, name="campaigns"),
    path("campaigns/new/", campaign_new, name="campaign-new"),
    path("campaigns/<int:campaign_id>/", campaign_detail, name="campaign"),
    path("campaigns/<int:campaign_id>/<str:action>/", campaign_action, name="campaign-action"),
]
