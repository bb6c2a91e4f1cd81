"""Console pages: message templates (list, editor with Meta's rules and a phone preview, copy to a
language, starter library), the media library and the business profile.

Every write is one service call of `waba`; the rules' per-field errors come back next to their
inputs. htmx only refreshes the preview while typing: with JavaScript off, "Preview" posts the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from console.access import tenant_console_view
from console.previews import message_template_preview
from console.template_forms import (
    TemplateForm,
    components_from_form,
    errors_onto_form,
    form_initial_from_template,
    preview_components,
)
from platform_core.errors import DomainError
from tenants.context import TenantRequest
from waba import meta
from waba import selectors as waba_selectors
from waba.errors import AccountNotFound, FieldsInvalid, MediaNotFound, TemplateNotFound
from waba.models import AccountEventLog, MediaAsset, MessageTemplate, WhatsAppAccount
from waba.services import media as media_services
from waba.services import profile as profile_services
from waba.services import template_library
from waba.services import templates as template_services

STATUS_BADGES = {
    "APPROVED": "badge-ok",
    "PENDING": "badge-info",
    "DRAFT": "badge-info",
    "IN_APPEAL": "badge-info",
    "REJECTED": "badge-bad",
    "DISABLED": "badge-bad",
    "PAUSED": "badge-warn",
    "FLAGGED": "badge-warn",
    "LIMIT_EXCEEDED": "badge-warn",
}


def _from_htmx(request: TenantRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _account(account_id: Any) -> WhatsAppAccount:
    try:
        return waba_selectors.account_get(account_id=int(account_id))
    except (AccountNotFound, TypeError, ValueError):
        raise Http404("No such WhatsApp account here.") from None


def _template(template_id: int) -> MessageTemplate:
    try:
        return waba_selectors.template_get(template_id=template_id)
    except TemplateNotFound:
        raise Http404("No such template here.") from None


def _account_choices() -> list[tuple[int, str]]:
    return [(a.pk, a.display_name or f"Account {a.pk}") for a in waba_selectors.accounts_list()]


def _error_text(error: DomainError) -> str:
    details = getattr(error, "details", None) or []
    reasons = "; ".join(str(d.get("message")) for d in details if isinstance(d, dict) and d.get("message"))
    return f"{error}" + (f" ({reasons})" if reasons and reasons not in str(error) else "")


# --- templates --------------------------------------------------------------------------------------


@tenant_console_view(area="templates")
def template_list(request: TenantRequest) -> HttpResponse:
    accounts = list(waba_selectors.accounts_list())
    selected = request.GET.get("account") or ""
    rows = waba_selectors.templates_filter(
        account_id=int(selected) if selected.isdigit() else None
    ).select_related("account")
    return render(
        request,
        "console/templates/list.html",
        {
            "section": "templates",
            "accounts": accounts,
            "selected": selected,
            "templates": [{"template": t, "badge": STATUS_BADGES.get(t.status, "")} for t in rows],
            "starters": template_library.STARTERS,
            "languages": sorted(meta.TEMPLATE_LANGUAGES),
        },
    )


def _editor(
    request: TenantRequest, *, template: MessageTemplate | None, initial: dict[str, Any] | None = None
) -> HttpResponseBase:
    accounts = _account_choices()
    if request.method != "POST":
        form = TemplateForm(initial=initial or {}, accounts=accounts)
        components = template.components if template else []
        return _editor_page(request, form=form, template=template, components=components)
    posted, picked_error = _header_sample_picked(request, template=template)
    if _from_htmx(request):  # the preview while typing, from whatever is in the form so far
        components = components_from_form(posted.dict())
        return _editor_page(
            request, form=TemplateForm(accounts=accounts), template=template, components=components
        )
    form = TemplateForm(posted, accounts=accounts)
    if template is not None:  # name, language and account are fixed once created
        for name in ("account", "name", "language"):
            form.fields[name].disabled = True
        form.initial.update(account=template.account_id, name=template.name, language=template.language)
    if not form.is_valid() or picked_error:
        if picked_error:
            form.add_error("header_sample", picked_error)
        return _editor_page(request, form=form, template=template, components=[], status=422)
    values = form.cleaned_data
    components = components_from_form(values)
    action = request.POST.get("action", "preview")
    if action == "preview":
        return _editor_page(request, form=form, template=template, components=components)
    try:
        if template is None:
            data = {
                "name": values["name"],
                "language": values["language"],
                "category": values["category"],
                "components": components,
            }
            saved = template_services.template_create(
                account=_account(values["account"]), data=data, submit=action == "submit"
            )
            messages.success(
                request,
                f"Template {saved.name} ({saved.language}) {'sent to Meta for review' if action == 'submit' else 'saved as a draft'}.",
            )
        else:
            saved = template_services.template_edit(
                template=template, components=components, category=values["category"]
            )
            messages.success(
                request, "Template saved." if saved.status == "DRAFT" else "Changes sent to Meta for review."
            )
    except FieldsInvalid as error:
        errors_onto_form(form, error.details or [], components)
        return _editor_page(request, form=form, template=template, components=components, status=422)
    except DomainError as error:
        form.add_error(None, _error_text(error))
        return _editor_page(request, form=form, template=template, components=components, status=409)
    return redirect("console:template", saved.pk)


def _editor_page(
    request: TenantRequest,
    *,
    form: TemplateForm,
    template: MessageTemplate | None,
    components: list[dict],
    status: int = 200,
) -> HttpResponse:
    context = {
        "section": "templates",
        "form": form,
        "template": template,
        "badge": STATUS_BADGES.get(template.status, "") if template else "",
        "preview": message_template_preview(preview_components(components)),
        "languages": sorted(meta.TEMPLATE_LANGUAGES),
        "edits_left_note": _edits_note(template),
        "category_changes": _category_changes(template),
        "editable": template is None
        or template.status == "DRAFT"
        or template.status in meta.TEMPLATE_EDITABLE_STATUSES,
        "header_samples": _header_sample_choices(form, template=template),
    }
    name = "console/templates/_preview.html" if _from_htmx(request) else "console/templates/editor.html"
    return render(request, name, context, status=status)


# Header formats whose sample is a file, and the media library's type for each.
HEADER_MEDIA_TYPES = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}


def _header_sample_picked(
    request: TenantRequest, *, template: MessageTemplate | None
) -> tuple[QueryDict, str]:
    """The posted form with the header sample taken from the media-library file picked in the editor
    (its upload handle), and what is wrong with the pick, if anything."""
    data = request.POST.copy()
    picked = data.get("header_asset", "")
    header_format = data.get("header_format", "")
    if not picked or header_format not in HEADER_MEDIA_TYPES:
        return data, ""
    account_id = template.account_id if template else data.get("account", "")
    asset = (
        media_services.media_assets_of()
        .filter(pk=int(picked) if picked.isdigit() else 0, purpose=MediaAsset.Purpose.SAMPLE)
        .exclude(handle="")
        .first()
    )
    if asset is None or str(asset.account_id) != str(account_id):
        return data, "Pick a sample of this template's WhatsApp account from the media library."
    if asset.media_type != HEADER_MEDIA_TYPES[header_format]:
        return data, f"{asset.name} is a {asset.media_type} file; this header takes {header_format.lower()} files."
    data["header_sample"] = asset.handle
    return data, ""


def _header_sample_choices(form: TemplateForm, *, template: MessageTemplate | None) -> dict[str, Any]:
    """The media library's samples the editor offers for an image, video or document header."""
    account_id = template.account_id if template else form["account"].value()
    assets = media_services.media_assets_of().filter(purpose=MediaAsset.Purpose.SAMPLE).exclude(handle="")
    if str(account_id or "").isdigit():
        assets = assets.filter(account_id=int(account_id))
    current = str(form["header_sample"].value() or "")
    picked = str(form.data.get("header_asset", "")) if form.is_bound else ""
    groups = []
    for header_format, media_type in HEADER_MEDIA_TYPES.items():
        options = [
            {"asset": asset, "selected": str(asset.pk) == picked or (not picked and asset.handle == current)}
            for asset in assets
            if asset.media_type == media_type
        ]
        if options:
            groups.append({"format": header_format, "label": f"{media_type.title()}s", "options": options})
    return {"groups": groups, "several_accounts": not str(account_id or "").isdigit()}


def _category_changes(template: MessageTemplate | None) -> list[dict[str, Any]]:
    """Meta's `template_category_update` events for this template, newest first."""
    if template is None or not template.meta_template_id:
        return []
    events = AccountEventLog.objects.filter(
        waba_id=template.account.waba_id,
        field="template_category_update",
        subject=f"template:{template.meta_template_id}",
    ).order_by("-id")[:5]
    return [
        {
            "before": str(event.value.get("previous_category") or ""),
            "after": str(event.value.get("new_category") or ""),
            "at": event.occurred_at or event.received_at,
        }
        for event in events
    ]


def _edits_note(template: MessageTemplate | None) -> str:
    if template is None or template.status == "DRAFT":
        return ""
    if template.status not in meta.TEMPLATE_EDITABLE_STATUSES:
        return f"A {template.status.lower()} template cannot be edited; Meta allows editing approved, rejected or paused ones."
    if template.status == "APPROVED":
        return (
            f"Saving sends the changes to Meta for review. Meta allows {meta.TEMPLATE_EDITS_PER_DAY} edit per 24 hours and "
            f"{meta.TEMPLATE_EDITS_PER_MONTH} per 30 days of an approved template; its category cannot change."
        )
    return "Saving sends the changes to Meta for review."


@tenant_console_view(area="templates")
def template_new(request: TenantRequest) -> HttpResponseBase:
    initial: dict[str, Any] = {"language": "en_US", "category": "UTILITY"}
    if request.GET.get("account", "").isdigit():
        initial["account"] = int(request.GET["account"])
    return _editor(request, template=None, initial=initial)


@tenant_console_view(area="templates")
def template_detail(request: TenantRequest, template_id: int) -> HttpResponseBase:
    template = _template(template_id)
    initial = form_initial_from_template(
        account_id=template.account_id,
        name=template.name,
        language=template.language,
        category=template.category,
        components=template.components,
    )
    return _editor(request, template=template, initial=initial)


@tenant_console_view(area="templates")
@require_POST
def template_submit(request: TenantRequest, template_id: int) -> HttpResponseBase:
    template = _template(template_id)
    try:
        template_services.template_submit(template=template)
        messages.success(request, "Sent to Meta for review.")
    except DomainError as error:
        messages.error(request, _error_text(error))
    return redirect("console:template", template.pk)


@tenant_console_view(area="templates")
@require_POST
def template_copy(request: TenantRequest, template_id: int) -> HttpResponseBase:
    template = _template(template_id)
    try:
        copied = template_services.template_copy(template=template, language=request.POST.get("language", ""))
    except DomainError as error:
        messages.error(request, _error_text(error))
        return redirect("console:template", template.pk)
    messages.success(
        request, f"Copied to {copied.language} as a draft: translate it, then send it for review."
    )
    return redirect("console:template", copied.pk)


@tenant_console_view(area="templates")
@require_POST
def template_starter_adopt(request: TenantRequest, key: str) -> HttpResponseBase:
    account = _account(request.POST.get("account"))
    try:
        adopted = template_library.template_starter_adopt(
            account=account, key=key, language=request.POST.get("language") or "en_US"
        )
    except DomainError as error:
        messages.error(request, _error_text(error))
        return redirect("console:templates")
    messages.success(request, f"Starter {adopted.name} added as a draft: adjust it, then send it for review.")
    return redirect("console:template", adopted.pk)


# --- media library ----------------------------------------------------------------------------------


class MediaUploadForm(forms.Form):
    account = forms.TypedChoiceField(label="WhatsApp account", coerce=int)
    purpose = forms.ChoiceField(
        label="Use",
        choices=MediaAsset.Purpose.choices,
        help_text="Message media gets a media id to send (valid 30 days); a sample gets a handle for template headers and the profile photo.",
    )
    file = forms.FileField(label="File")

    def __init__(self, *args: Any, accounts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = accounts  # type: ignore[attr-defined]


@tenant_console_view(area="templates")
def media_library(request: TenantRequest) -> HttpResponse:
    accounts = _account_choices()
    form = MediaUploadForm(accounts=accounts)
    status = 200
    if request.method == "POST":
        form = MediaUploadForm(request.POST, request.FILES, accounts=accounts)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            upload_kwargs = {
                "account": _account(form.cleaned_data["account"]),
                "name": upload.name or "upload",
                "content_type": upload.content_type or "",
                "data": upload.read(),
            }
            try:
                if form.cleaned_data["purpose"] == MediaAsset.Purpose.SAMPLE:
                    media_services.media_sample_upload(**upload_kwargs)
                else:
                    media_services.media_upload(**upload_kwargs)
            except FieldsInvalid as error:
                for detail in error.details or []:
                    form.add_error("file", str(detail.get("message")))
            except DomainError as error:
                form.add_error(None, _error_text(error))
            else:
                messages.success(request, f"{upload_kwargs['name']} uploaded to Meta.")
                return redirect("console:media")
        status = 422
    limits = [
        {"type": kind, "formats": ", ".join(sorted(types)), "max": meta.MEDIA_MAX_BYTES[kind]}
        for kind, types in meta.MEDIA_CONTENT_TYPES.items()
    ]
    return render(
        request,
        "console/templates/media.html",
        {
            "section": "templates",
            "form": form,
            "assets": media_services.media_assets_of(),
            "limits": limits,
            "sticker_static_max": meta.STICKER_STATIC_MAX_BYTES,
        },
        status=status,
    )


@tenant_console_view(area="templates")
def media_detail(request: TenantRequest, asset_id: int) -> HttpResponse:
    try:
        asset = media_services.media_asset_get(asset_id=asset_id)
    except MediaNotFound:
        raise Http404("No such media here.") from None
    return render(request, "console/templates/media_detail.html", {"section": "templates", "asset": asset})


# --- business profile -------------------------------------------------------------------------------


class BusinessProfileForm(forms.Form):
    about = forms.CharField(
        label="About",
        max_length=meta.PROFILE_ABOUT_MAX_CHARS,
        required=False,
        help_text="The short status under the name, up to 139 characters.",
    )
    description = forms.CharField(
        label="Description",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=meta.PROFILE_DESCRIPTION_MAX_CHARS,
        required=False,
    )
    address = forms.CharField(label="Address", max_length=meta.PROFILE_ADDRESS_MAX_CHARS, required=False)
    email = forms.EmailField(label="Email", max_length=meta.PROFILE_EMAIL_MAX_CHARS, required=False)
    website_1 = forms.URLField(
        label="Website", max_length=meta.PROFILE_WEBSITE_MAX_CHARS, required=False, assume_scheme="https"
    )
    website_2 = forms.URLField(
        label="Second website",
        max_length=meta.PROFILE_WEBSITE_MAX_CHARS,
        required=False,
        assume_scheme="https",
    )
    vertical = forms.ChoiceField(
        label="Industry",
        required=False,
        choices=[("", "Not set")]
        + [(v, v.replace("_", " ").title()) for v in sorted(meta.BUSINESS_VERTICALS)],
    )
    profile_picture_handle = forms.ChoiceField(
        label="Profile photo", required=False, help_text="An image uploaded as a sample in the media library."
    )


@tenant_console_view(area="templates")
def business_profile(request: TenantRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    stored = profile_services.business_profile_of(account=account)
    photos = [
        (a.handle, a.name)
        for a in media_services.media_assets_of(account=account).filter(
            purpose=MediaAsset.Purpose.SAMPLE, media_type="image"
        )
    ]
    initial = {
        "about": stored.about,
        "description": stored.description,
        "address": stored.address,
        "email": stored.email,
        "vertical": stored.vertical,
        "website_1": (stored.websites or [""])[0],
        "website_2": stored.websites[1] if len(stored.websites) > 1 else "",
    }
    form = BusinessProfileForm(request.POST or None, initial=initial)
    picture_choices = [("", "Keep the current photo"), *photos]
    form.fields["profile_picture_handle"].choices = picture_choices  # type: ignore[attr-defined]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = dict(form.cleaned_data)
            values["websites"] = [w for w in (values.pop("website_1"), values.pop("website_2")) if w]
            if not values["profile_picture_handle"]:
                values.pop("profile_picture_handle")
            try:
                profile_services.business_profile_update(account=account, data=values)
            except FieldsInvalid as error:
                for detail in error.details or []:
                    field = str(detail.get("field", "")).split(".")[0]
                    form.add_error(
                        field if field in form.fields else "website_1" if field == "websites" else None,
                        str(detail.get("message")),
                    )
            except DomainError as error:
                form.add_error(None, _error_text(error))
            else:
                messages.success(request, "Business profile saved and sent to WhatsApp.")
                return redirect("console:business-profile", account.pk)
        status = 422
    return render(
        request,
        "console/templates/profile.html",
        {
            "section": "templates",
            "account": account,
            "profile": stored,
            "form": form,
            "media_url": reverse("console:media"),
        },
        status=status,
    )


urlpatterns = [
    path("templates/", template_list, name="templates"),
    path("templates/new/", template_new, name="template-new"),
    path("templates/<int:template_id>/", template_detail, name="template"),
    path("templates/<int:template_id>/submit/", template_submit, name="template-submit"),
    path("templates/<int:template_id>/copy/", template_copy, name="template-copy"),
    path("templates/starters/<slug:key>/adopt/", template_starter_adopt, name="template-starter-adopt"),
    path("templates/media/", media_library, name="media"),
    path("templates/media/<int:asset_id>/", media_detail, name="media-detail"),
    path("templates/profile/<int:account_id>/", business_profile, name="business-profile"),
]
