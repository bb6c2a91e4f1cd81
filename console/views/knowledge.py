"""Console pages: the knowledge base. The FAQ entries with the on/off switch, a "try a question" box
(a GET: it changes nothing, so whoever may view the page may try), the last 30 days' answers, and
the form to add or edit an entry.

The knowledge base is content the bot sends, like templates: it opens to the roles of the
`templates` area (owners, admins and developers change it, viewers read it, agents do not see it).
Every write is a POST calling one `knowledge.services` function; ids are looked up in the tenant's
own schema, so another tenant's id is a 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_POST

from console.access import tenant_console_view
from knowledge import selectors, services
from knowledge.errors import FaqEntryInvalid, FaqEntryNotFound
from knowledge.models import FaqEntry
from tenants.context import TenantRequest

AREA = "templates"
SECTION = "knowledge"
STATS_DAYS = 30


class FaqEntryForm(forms.Form):
    question = forms.CharField(
        label="Question", max_length=300, help_text="The question as customers usually ask it."
    )
    variants = forms.CharField(
        label="Other ways to ask it",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    answer = forms.CharField(
        label="Answer",
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent as it is, as one WhatsApp message.",
    )
    language = forms.CharField(
        label="Language",
        max_length=16,
        initial="en",
        help_text="A language code such as en, es or pt_BR: it decides how words are matched.",
    )
    tags = forms.CharField(label="Tags", max_length=500, required=False, help_text="Separated by commas.")
    is_active = forms.BooleanField(label="Active: the bot may answer with it", required=False, initial=True)

    def entry_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "question": data["question"],
            "answer": data["answer"],
            "language": data["language"],
            "variants": data["variants"].splitlines(),
            "tags": data["tags"].split(","),
            "is_active": data["is_active"],
        }


def _entry(entry_id: int) -> FaqEntry:
    try:
        return selectors.faq_entry_get(entry_id=entry_id)
    except FaqEntryNotFound:
        raise Http404("No such FAQ entry here.") from None


@tenant_console_view(area=AREA)
def knowledge_list(request: TenantRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:200]
    question = request.GET.get("try", "").strip()[:1000]
    tried = None
    if question:
        match, candidates = services.knowledge_match(text=question)
        tried = {
            "question": question,
            "match": match,
            "candidates": candidates,
            "score": candidates[0].score if candidates else 0.0,
        }
    until = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    days = selectors.knowledge_answer_counts(since=until - timedelta(days=STATS_DAYS), until=until)
    return render(
        request,
        "console/knowledge/list.html",
        {
            "section": SECTION,
            "entries": selectors.faq_entry_list(search=search or None),
            "search": search,
            "enabled": selectors.knowledge_settings_get().enabled,
            "threshold": settings.KNOWLEDGE_MATCH_THRESHOLD,
            "tried": tried,
            "answered": sum(day.answered for day in days),
            "handed_off": sum(day.handed_off for day in days),
            "stats_days": STATS_DAYS,
        },
    )


def _entry_form_page(request: TenantRequest, form: FaqEntryForm, entry: FaqEntry | None) -> HttpResponse:
    return render(request, "console/knowledge/form.html", {"section": SECTION, "form": form, "entry": entry})


@tenant_console_view(area=AREA)
def knowledge_create(request: TenantRequest) -> HttpResponseBase:
    form = FaqEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.faq_entry_create(**form.entry_fields())
        except FaqEntryInvalid as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "FAQ entry added.")
            return redirect("console:knowledge")
    return _entry_form_page(request, form, None)


@tenant_console_view(area=AREA)
def knowledge_edit(request: TenantRequest, entry_id: int) -> HttpResponseBase:
    entry = _entry(entry_id)
    initial = {
        "question": entry.question,
        "variants": "\n".join(entry.variants),
        "answer": entry.answer,
        "language": entry.language,
        "tags": ", ".join(entry.tags),
        "is_active": entry.is_active,
    }
    form = FaqEntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.faq_entry_update(entry=entry, **form.entry_fields())
        except FaqEntryInvalid as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "FAQ entry saved.")
            return redirect("console:knowledge")
    return _entry_form_page(request, form, entry)


@tenant_console_view(area=AREA)
@require_POST
def knowledge_delete(request: TenantRequest, entry_id: int) -> HttpResponseBase:
    services.faq_entry_delete(entry=_entry(entry_id))
    messages.success(request, "FAQ entry deleted.")
    return redirect("console:knowledge")


@tenant_console_view(area=AREA)
@require_POST
def knowledge_enabled_set(request: TenantRequest) -> HttpResponseBase:
    enable = request.POST.get("enabled") == "1"
    services.knowledge_settings_update(enabled=enable)
    messages.success(
        request,
        "The bot now answers from the knowledge base."
        if enable
        else "The knowledge base is off: the bot no longer answers from it.",
    )
    return redirect("console:knowledge")


urlpatterns: list[URLPattern] = [
    path("knowledge/", knowledge_list, name="knowledge"),
    path("knowledge/new/", knowledge_create, name="knowledge-create"),
    path("knowledge/enabled/", knowledge_enabled_set, name="knowledge-enabled"),
    path("knowledge/<int:entry_id>/edit/", knowledge_edit, name="knowledge-edit"),
    path("knowledge/<int:entry_id>/delete/", knowledge_delete, name="knowledge-delete"),
]
