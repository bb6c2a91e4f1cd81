"""Console pages: outbound webhooks. The endpoints with their recent delivery stats, the form to
add or edit one, and an endpoint's page with its delivery log, replays, test events and the
secret roll. A secret is shown once, on the page answering its creation or roll, never again.

Every write is a POST form calling one `integrations.services` function; ids are looked up in the
tenant's own schema, so another tenant's id is a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_POST

from console.access import tenant_console_view
from integrations import selectors, services
from integrations.errors import DeliveryNotFound, EndpointInvalid, EndpointNotFound
from integrations.event_types import EventType
from integrations.models import Delivery, Endpoint
from tenants.context import TenantRequest

DELIVERY_LOG_SIZE = 50


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        help_text="Where events are POSTed: an https address reachable from the internet.",
        widget=forms.URLInput(
            attrs={"placeholder": "https://example.com/whatsapp-events", "autocomplete": "off"}
        ),
    )
    description = forms.CharField(
        label="Description", max_length=200, required=False, help_text="For you: what receives these events."
    )
    event_types = forms.MultipleChoiceField(
        label="Events to send",
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )


def _endpoint(endpoint_id: int) -> Endpoint:
    try:
        return selectors.endpoint_get(endpoint_id=endpoint_id)
    except EndpointNotFound:
        raise Http404("No such webhook endpoint here.") from None


def _delivery(endpoint: Endpoint, delivery_id: int) -> Delivery:
    try:
        return selectors.delivery_get(delivery_id=delivery_id, endpoint_id=endpoint.pk)
    except DeliveryNotFound:
        raise Http404("No such delivery here.") from None


def _secret_page(request: TenantRequest, endpoint: Endpoint, secret: str, *, created: bool) -> HttpResponse:
    response = render(
        request,
        "console/integrations/secret.html",
        {"section": "integrations", "endpoint": endpoint, "secret": secret, "created": created},
    )
    response["Cache-Control"] = "no-store"
    return response


@tenant_console_view(area="integrations")
def endpoint_list(request: TenantRequest) -> HttpResponse:
    stats = selectors.endpoint_delivery_stats()
    rows = [
        {"endpoint": endpoint, "stats": stats.get(endpoint.pk, {})} for endpoint in selectors.endpoint_list()
    ]
    return render(request, "console/integrations/list.html", {"section": "integrations", "rows": rows})


@tenant_console_view(area="integrations")
def endpoint_create(request: TenantRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
            )
        except EndpointInvalid as error:
            form.add_error(
                "url" if "URL" in error.message or "host" in error.message else None, error.message
            )
        else:
            return _secret_page(request, endpoint, secret, created=True)
    return render(request, "console/integrations/form.html", {"section": "integrations", "form": form})


@tenant_console_view(area="integrations")
def endpoint_edit(request: TenantRequest, endpoint_id: int) -> HttpResponseBase:
    endpoint = _endpoint(endpoint_id)
    initial = {"url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(
                endpoint=endpoint,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
            )
        except EndpointInvalid as error:
            form.add_error(
                "url" if "URL" in error.message or "host" in error.message else None, error.message
            )
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("console:integration", endpoint.pk)
    return render(
        request,
        "console/integrations/form.html",
        {"section": "integrations", "form": form, "endpoint": endpoint},
    )


@tenant_console_view(area="integrations")
def endpoint_detail(request: TenantRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(endpoint_id)
    state = request.GET.get("state", "")
    if state not in Delivery.State.values:
        state = ""
    deliveries = selectors.delivery_list(endpoint_id=endpoint.pk, state=state or None)[:DELIVERY_LOG_SIZE]
    return render(
        request,
        "console/integrations/detail.html",
        {
            "section": "integrations",
            "endpoint": endpoint,
            "deliveries": deliveries,
            "state": state,
            "states": Delivery.State.choices,
            "event_labels": dict(EventType.choices),
            "stats": selectors.endpoint_delivery_stats().get(endpoint.pk, {}),
        },
    )


@tenant_console_view(area="integrations")
def delivery_detail(request: TenantRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    endpoint = _endpoint(endpoint_id)
    delivery = _delivery(endpoint, delivery_id)
    return render(
        request,
        "console/integrations/delivery.html",
        {"section": "integrations", "endpoint": endpoint, "delivery": delivery},
    )


@tenant_console_view(area="integrations")
@require_POST
def delivery_replay(request: TenantRequest, endpoint_id: int, delivery_id: int) -> HttpResponseBase:
    endpoint = _endpoint(endpoint_id)
    services.delivery_replay(delivery=_delivery(endpoint, delivery_id))
    messages.success(request, "The event is queued to be sent again.")
    return redirect("console:integration", endpoint.pk)


@tenant_console_view(area="integrations")
@require_POST
def endpoint_test(request: TenantRequest, endpoint_id: int) -> HttpResponseBase:
    endpoint = _endpoint(endpoint_id)
    services.endpoint_test_send(endpoint=endpoint)
    messages.success(request, "A test event (ping) is queued; it appears in the log below once sent.")
    return redirect("console:integration", endpoint.pk)


@tenant_console_view(area="integrations")
@require_POST
def endpoint_secret_roll(request: TenantRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(endpoint_id)
    secret = services.endpoint_secret_roll(endpoint=endpoint)
    return _secret_page(request, endpoint, secret, created=False)


@tenant_console_view(area="integrations")
@require_POST
def endpoint_enabled_set(request: TenantRequest, endpoint_id: int) -> HttpResponseBase:
    endpoint = _endpoint(endpoint_id)
    enable = request.POST.get("enabled") == "1"
    services.endpoint_update(endpoint=endpoint, is_enabled=enable)
    messages.success(request, "Endpoint enabled." if enable else "Endpoint disabled: nothing is sent to it.")
    return redirect("console:integration", endpoint.pk)


@tenant_console_view(area="integrations")
@require_POST
def endpoint_delete(request: TenantRequest, endpoint_id: int) -> HttpResponseBase:
    endpoint = _endpoint(endpoint_id)
    services.endpoint_delete(endpoint=endpoint)
    messages.success(request, "Endpoint deleted.")
    return redirect("console:integrations")


urlpatterns: list[URLPattern] = [
    path("integrations/", endpoint_list, name="integrations"),
    path("integrations/new/", endpoint_create, name="integration-create"),
    path("integrations/<int:endpoint_id>/", endpoint_detail, name="integration"),
    path("integrations/<int:endpoint_id>/edit/", endpoint_edit, name="integration-edit"),
    path("integrations/<int:endpoint_id>/test/", endpoint_test, name="integration-test"),
    path("integrations/<int:endpoint_id>/roll-secret/", endpoint_secret_roll, name="integration-roll-secret"),
    path("integrations/<int:endpoint_id>/enabled/", endpoint_enabled_set, name="integration-enabled"),
    path("integrations/<int:endpoint_id>/delete/", endpoint_delete, name="integration-delete"),
    path(
        "integrations/<int:endpoint_id>/deliveries/<int:delivery_id>/",
        delivery_detail,
        name="integration-delivery",
    ),
    path(
        "integrations/<int:endpoint_id>/deliveries/<int:delivery_id>/replay/",
        delivery_replay,
        name="integration-replay",
    ),
]
