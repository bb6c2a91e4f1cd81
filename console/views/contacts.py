"""Console pages: contacts (list with search and filters, a contact's page, create and edit, tags,
consent, block, delete), the CSV import (upload, map the columns, follow the progress, download the
errors), the export of a filtered list and the attribute definitions. Segments live in
console/views/segments.py, whose URLs are included here.

Views stay thin over contacts.services, contacts.selectors and contacts.imports; the errors those
raise ({field, message} details) are shown next to the form's fields.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from console.access import tenant_console_view
from console.downloads import csv_download
from console.views import segments as segment_views
from contacts import imports, selectors, services
from contacts.errors import ContactNotFound, ImportJobNotFound
from contacts.models import AttributeDefinition, ConsentEvent, ImportJob
from contacts.schemas import opt_in_state
from messaging.models import Contact
from platform_core.errors import DomainError
from tenants.context import TenantRequest

PAGE_SIZE = 50
OPT_IN_CHOICES = [
    ("", "Any"),
    ("opted_in", "Opted in"),
    ("opted_out", "Opted out"),
    ("unknown", "Not recorded"),
]
BLOCKED_CHOICES = [("", "Any"), ("no", "Not blocked"), ("yes", "Blocked")]


def _contact(contact_id: int) -> Contact:
    try:
        return selectors.contact_get(contact_id=contact_id)
    except ContactNotFound:
        raise Http404("No such contact here.") from None


def _job(job_id: int) -> ImportJob:
    try:
        return imports.import_get(job_id=job_id)
    except ImportJobNotFound:
        raise Http404("No such import here.") from None


def _actor(request: TenantRequest) -> services.Actor:
    return services.Actor(ConsentEvent.Source.CONSOLE, request.user.get_username())


# --- forms -------------------------------------------------------------------------------------------


class FilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or number"}),
    )
    tag = forms.ChoiceField(label="Tag", required=False)
    opt_in = forms.ChoiceField(label="Marketing consent", required=False, choices=OPT_IN_CHOICES)
    blocked = forms.ChoiceField(label="Blocked", required=False, choices=BLOCKED_CHOICES)
    attribute = forms.ChoiceField(label="Attribute", required=False)
    value = forms.CharField(label="equals", required=False, max_length=1000)
    days = forms.IntegerField(label="Wrote within (days)", required=False, min_value=1, max_value=3650)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["tag"]).choices = [
            ("", "Any"),
            *[(tag, tag) for tag in selectors.tags_in_use()],
        ]
        cast(forms.ChoiceField, self.fields["attribute"]).choices = [
            ("", "Any"),
            *[(definition.key, definition.label) for definition in selectors.attribute_definitions()],
        ]

    def filters(self) -> selectors.ContactFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        blocked = {"yes": True, "no": False}.get(data.get("blocked") or "")
        return selectors.ContactFilters(
            search=data.get("q") or "",
            tag=data.get("tag") or "",
            opt_in=data.get("opt_in") or "",
            blocked=blocked,
            attribute=data.get("attribute") or "",
            attribute_value=data.get("value") or "",
            inbound_within_days=data.get("days"),
        )

    def query(self) -> str:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return urlencode({name: value for name, value in data.items() if value not in (None, "")})


def _attribute_field(definition: AttributeDefinition) -> forms.Field:
    label, help_text = definition.label, f"Attribute <code>{definition.key}</code>"
    if definition.type == AttributeDefinition.Type.NUMBER:
        return forms.CharField(
            label=label,
            required=False,
            help_text=help_text,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        )
    if definition.type == AttributeDefinition.Type.DATE:
        return forms.CharField(
            label=label, required=False, help_text=help_text, widget=forms.DateInput(attrs={"type": "date"})
        )
    if definition.type == AttributeDefinition.Type.BOOLEAN:
        return forms.ChoiceField(
            label=label,
            required=False,
            help_text=help_text,
            choices=[("", "Not set"), ("yes", "Yes"), ("no", "No")],
        )
    if definition.type == AttributeDefinition.Type.CHOICE:
        return forms.ChoiceField(
            label=label,
            required=False,
            help_text=help_text,
            choices=[("", "Not set"), *[(choice, choice) for choice in definition.choices]],
        )
    return forms.CharField(label=label, required=False, help_text=help_text, max_length=1000)


class ContactForm(forms.Form):
    """The profile and the attributes; the number only when creating (it is the contact's identity)."""

    phone = forms.CharField(
        label="Phone number",
        max_length=64,
        help_text="With its country code, e.g. +49 151 12345678.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    profile_name = forms.CharField(label="Name", required=False, max_length=256)
    tier = forms.CharField(label="Tier", required=False, max_length=64, help_text="E.g. gold, silver, trial.")
    language = forms.CharField(
        label="Language", required=False, max_length=16, help_text="E.g. en, de, pt_BR."
    )
    timezone = forms.CharField(
        label="Time zone", required=False, max_length=64, help_text="E.g. Europe/Berlin."
    )
    tags = forms.CharField(label="Tags", required=False, max_length=2000, help_text="Separated by commas.")
    notes = forms.CharField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["phone"]
        self.definitions = selectors.attribute_definitions()
        for definition in self.definitions:
            self.fields[f"attr_{definition.key}"] = _attribute_field(definition)

    @classmethod
    def initial_of(cls, contact: Contact) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(contact, name) for name in services.PROFILE_FIELDS}
        initial["tags"] = ", ".join(contact.tags)
        for key, value in (contact.attributes or {}).items():
            initial[f"attr_{key}"] = ("yes" if value else "no") if isinstance(value, bool) else value
        return initial

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **{name: data[name] for name in services.PROFILE_FIELDS},
            "tags": [tag for tag in data["tags"].split(",") if tag.strip()],
            "attributes": {
                definition.key: data.get(f"attr_{definition.key}") or None for definition in self.definitions
            },
        }

    def service_errors_apply(self, error: DomainError) -> None:
        for detail in error.details if isinstance(error.details, list) else []:
            name = str(detail.get("field", "")).replace("attributes.", "attr_")
            self.add_error(name if name in self.fields else None, str(detail.get("message", error.message)))
        if not self.errors:
            self.add_error(None, error.message)


class AttributeForm(forms.Form):
    key = forms.SlugField(label="Key", max_length=64, help_text="Used in the API and imports, e.g. city.")
    label = forms.CharField(label="Label", max_length=128)
    type = forms.ChoiceField(label="Type", choices=AttributeDefinition.Type.choices)
    choices = forms.CharField(
        label="Choices",
        required=False,
        max_length=5000,
        help_text="For a choice attribute: the allowed values, separated by commas.",
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="A header row, then one contact per row. Up to 100 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


def _form_errors_apply(form: forms.Form, error: DomainError) -> None:
    for detail in error.details if isinstance(error.details, list) else []:
        name = str(detail.get("field", "")).split(".")[0]
        form.add_error(name if name in form.fields else None, str(detail.get("message", error.message)))
    if not form.errors:
        form.add_error(None, error.message)


# --- list, export ------------------------------------------------------------------------------------


@tenant_console_view(area="contacts")
def contact_list(request: TenantRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    error = ""
    try:
        page, next_cursor = selectors.contacts_list(
            form.filters(), cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
        )
    except DomainError as failure:
        page, next_cursor, error = [], None, failure.message
    totals = selectors.totals_for([contact.pk for contact in page])
    rows = [
        {
            "contact": contact,
            "totals": totals.get(contact.pk, selectors.Totals()),
            "opt_in": opt_in_state(contact),
        }
        for contact in page
    ]
    query = form.query()
    context = {
        "section": "contacts",
        "form": form,
        "rows": rows,
        "error": error,
        "query": query,
        "next_url": f"?{query}&cursor={next_cursor}" if next_cursor else "",
        "first_url": f"?{query}" if request.GET.get("cursor") else "",
        "filtered": bool(query),
    }
    return render(request, "console/contacts/list.html", context, status=422 if error else 200)


@tenant_console_view(area="contacts")
def contact_export(request: TenantRequest) -> HttpResponseBase:
    form = FilterForm(request.GET or None)
    return csv_download(
        request,
        lines=lambda: selectors.contacts_export_lines(form.filters()),
        filename="contacts.csv",
        back="console:contacts",
    )


# --- one contact -------------------------------------------------------------------------------------


@tenant_console_view(area="contacts")
def contact_detail(request: TenantRequest, contact_id: int) -> HttpResponse:
    contact = _contact(contact_id)
    definitions = selectors.attribute_definitions()
    labels = {definition.key: definition.label for definition in definitions}
    attributes = [
        {"key": key, "label": labels.get(key, key), "value": value}
        for key, value in sorted((contact.attributes or {}).items())
    ]
    context = {
        "section": "contacts",
        "contact": contact,
        "opt_in": opt_in_state(contact),
        "totals": selectors.totals_for([contact.pk]).get(contact.pk, selectors.Totals()),
        "attributes": attributes,
        "consent_events": selectors.consent_history(contact=contact)[:50],
        "conversations": selectors.contact_conversations(contact=contact),
    }
    return render(request, "console/contacts/detail.html", context)


@tenant_console_view(area="contacts")
@require_http_methods(["GET", "POST"])
def contact_create(request: TenantRequest) -> HttpResponse:
    form = ContactForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                phone=form.cleaned_data["phone"], actor=_actor(request), **form.service_data()
            )
        except DomainError as error:
            form.service_errors_apply(error)
        else:
            messages.success(request, f"Contact {contact} created.")
            return redirect("console:contact", contact.pk)
    context = {"section": "contacts", "form": form, "creating": True}
    return render(request, "console/contacts/form.html", context, status=422 if form.errors else 200)


@tenant_console_view(area="contacts")
@require_http_methods(["GET", "POST"])
def contact_edit(request: TenantRequest, contact_id: int) -> HttpResponse:
    contact = _contact(contact_id)
    form = ContactForm(request.POST or None, creating=False, initial=ContactForm.initial_of(contact))
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(contact=contact, **form.service_data())
        except DomainError as error:
            form.service_errors_apply(error)
        else:
            messages.success(request, "Contact saved.")
            return redirect("console:contact", contact.pk)
    context = {"section": "contacts", "form": form, "creating": False, "contact": contact}
    return render(request, "console/contacts/form.html", context, status=422 if form.errors else 200)


@tenant_console_view(area="contacts")
@require_POST
def contact_tags(request: TenantRequest, contact_id: int) -> HttpResponseBase:
    contact = _contact(contact_id)
    try:
        if request.POST.get("remove"):
            services.contact_tags_remove(contact=contact, tags=[request.POST["remove"]])
            messages.success(request, f"Tag {request.POST['remove']!r} removed.")
        else:
            tags = [tag for tag in request.POST.get("tags", "").split(",") if tag.strip()]
            if not tags:
                messages.error(request, "Write a tag to add.")
            else:
                services.contact_tags_add(contact=contact, tags=tags)
                messages.success(request, "Tags added.")
    except DomainError as error:
        messages.error(
            request, "; ".join(detail["message"] for detail in error.details or []) or error.message
        )
    return redirect("console:contact", contact.pk)


@tenant_console_view(area="contacts")
@require_POST
def contact_consent(request: TenantRequest, contact_id: int) -> HttpResponseBase:
    contact = _contact(contact_id)
    kind = request.POST.get("kind", "")
    if kind not in ConsentEvent.Kind.values:
        messages.error(request, "Choose opt-in or opt-out.")
    else:
        services.consent_record(
            contact=contact, kind=kind, actor=_actor(request), note=request.POST.get("note", "")[:500]
        )
        messages.success(
            request,
            "Opt-out recorded: no marketing templates will be sent."
            if kind == ConsentEvent.Kind.OPT_OUT
            else "Opt-in recorded.",
        )
    return redirect("console:contact", contact.pk)


@tenant_console_view(area="contacts")
@require_POST
def contact_block(request: TenantRequest, contact_id: int) -> HttpResponseBase:
    contact = _contact(contact_id)
    if request.POST.get("action") == "unblock":
        services.contact_unblock(contact=contact)
        messages.success(request, "Contact unblocked.")
    else:
        services.contact_block(contact=contact)
        messages.success(request, "Contact blocked.")
    return redirect("console:contact", contact.pk)


@tenant_console_view(area="contacts")
@require_http_methods(["GET", "POST"])
def contact_delete(request: TenantRequest, contact_id: int) -> HttpResponseBase:
    contact = _contact(contact_id)
    if request.method == "POST":
        name = str(contact)
        services.contact_delete(contact=contact)
        messages.success(request, f"{name} and their conversations were deleted.")
        return redirect("console:contacts")
    return render(request, "console/contacts/delete.html", {"section": "contacts", "contact": contact})


# --- attributes ----------------------------------------------------------------------------------------


@tenant_console_view(area="contacts")
@require_http_methods(["GET", "POST"])
def attribute_list(request: TenantRequest) -> HttpResponse:
    form = AttributeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            definition = services.attribute_definition_create(
                key=data["key"],
                label=data["label"],
                type=data["type"],
                choices=[choice for choice in data["choices"].split(",") if choice.strip()],
            )
        except DomainError as error:
            _form_errors_apply(form, error)
        else:
            messages.success(request, f"Attribute {definition.label} added.")
            return redirect("console:contact-attributes")
    context = {"section": "contacts", "form": form, "definitions": selectors.attribute_definitions()}
    return render(request, "console/contacts/attributes.html", context, status=422 if form.errors else 200)


@tenant_console_view(area="contacts")
@require_POST
def attribute_delete(request: TenantRequest, definition_id: int) -> HttpResponseBase:
    definition = AttributeDefinition.objects.filter(pk=definition_id).first()
    if definition is None:
        raise Http404("No such attribute here.")
    services.attribute_definition_delete(definition=definition)
    messages.success(request, f"Attribute {definition.label} deleted, with its values.")
    return redirect("console:contact-attributes")


# --- import --------------------------------------------------------------------------------------------


@tenant_console_view(area="contacts")
@require_http_methods(["GET", "POST"])
def import_upload(request: TenantRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.import_upload(
                chunks=upload.chunks(),
                filename=upload.name or "contacts.csv",
                created_by=request.user.get_username(),
            )
        except DomainError as error:
            _form_errors_apply(form, error)
        else:
            return redirect("console:contact-import", job.pk)
    context = {"section": "contacts", "form": form, "recent": ImportJob.objects.order_by("-id")[:10]}
    return render(request, "console/contacts/import_upload.html", context, status=422 if form.errors else 200)


def _mapping_form(job: ImportJob, data: Any = None) -> forms.Form:
    form = forms.Form(data)
    targets = [("", "Do not import"), *imports.mapping_targets()]
    for index, column in enumerate(job.columns):
        samples = ", ".join(row[index] for row in job.sample_rows if index < len(row) and row[index])[:80]
        form.fields[f"col_{index}"] = forms.ChoiceField(
            label=column,
            required=False,
            choices=targets,
            initial=job.mapping.get(str(index), ""),
            help_text=f"e.g. {samples}" if samples else "empty in the first rows",
        )
    form.fields["default_country"] = forms.CharField(
        label="Default country",
        required=False,
        max_length=2,
        initial=job.default_country,
        help_text="Two letters (e.g. DE): numbers written without a country code are read as this country's.",
    )
    return form


@tenant_console_view(area="contacts")
@require_http_methods(["GET", "POST"])
def import_detail(request: TenantRequest, job_id: int) -> HttpResponse:
    job = _job(job_id)
    form = _mapping_form(job, request.POST or None) if job.status == ImportJob.Status.UPLOADED else None
    if request.method == "POST" and form is not None and form.is_valid():
        mapping = {
            name.removeprefix("col_"): value
            for name, value in form.cleaned_data.items()
            if name.startswith("col_") and value
        }
        try:
            with transaction.atomic():
                imports.import_start(
                    job=job, mapping=mapping, default_country=form.cleaned_data["default_country"]
                )
        except DomainError as error:
            for detail in error.details or []:
                field = str(detail["field"])
                name = "col_" + field.removeprefix("mapping.") if field.startswith("mapping.") else field
                form.add_error(name if name in form.fields else None, detail["message"])
        else:
            messages.success(request, "Import started.")
            return redirect("console:contact-import", job.pk)
    job.refresh_from_db()
    context = {"section": "contacts", "job": job, "form": form}
    template = (
        "console/contacts/_import_progress.html"
        if request.headers.get("HX-Request") == "true"
        else "console/contacts/import.html"
    )
    return render(request, template, context, status=422 if form is not None and form.errors else 200)


@tenant_console_view(area="contacts")
def import_errors(request: TenantRequest, job_id: int) -> StreamingHttpResponse:
    job = _job(job_id)
    response = StreamingHttpResponse(
        imports.import_errors_lines(job=job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


urlpatterns = [
    path("contacts/", contact_list, name="contacts"),
    path("contacts/export.csv", contact_export, name="contacts-export"),
    path("contacts/new/", contact_create, name="contact-new"),
    path("contacts/attributes/", attribute_list, name="contact-attributes"),
    path(
        "contacts/attributes/<int:definition_id>/delete/", attribute_delete, name="contact-attribute-delete"
    ),
    path("contacts/import/", import_upload, name="contact-import-upload"),
    path("contacts/import/<int:job_id>/", import_detail, name="contact-import"),
    path("contacts/import/<int:job_id>/errors.csv", import_errors, name="contact-import-errors"),
    path("contacts/<int:contact_id>/", contact_detail, name="contact"),
    path("contacts/<int:contact_id>/edit/", contact_edit, name="contact-edit"),
    path("contacts/<int:contact_id>/tags/", contact_tags, name="contact-tags"),
    path("contacts/<int:contact_id>/consent/", contact_consent, name="contact-consent"),
    path("contacts/<int:contact_id>/block/", contact_block, name="contact-block"),
    path("contacts/<int:contact_id>/delete/", contact_delete, name="contact-delete"),
    *segment_views.urlpatterns,
]
