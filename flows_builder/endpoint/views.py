"""The data-exchange endpoint's URL: `POST /flows/endpoint/<tenant_slug>/<phone_number_id>`, public host.

Why the public host rather than the tenant's: everything Meta calls (webhooks, this endpoint) lives
on the one platform host, so a deployment exposes a single hostname and certificate to Meta and
tenant hosts can stay behind the customer-facing routing (suspended-workspace pages, API keys).
The slug chooses the schema; the number must exist in that schema, so one tenant's URL can never
reach another tenant's key. Authentication is the app-secret signature, checked before anything else.
Unknown tenants or numbers (404) and bad signatures (432) spend from the caller's address budget;
an address past it is answered 429 before any lookup (webhooks.throttle).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context

from flows_builder.endpoint.exchange import flow_endpoint_exchange
from platform_core.text import text_unstorable_reason
from tenants.selectors import active_tenants
from waba import meta
from waba.models import PhoneNumber
from webhooks.throttle import inbound_throttle, source_address, throttled_response


def _not_found(message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": "not_found", "message": message, "details": None}}, status=404)


@csrf_exempt
@require_POST
def flow_data_exchange(request: HttpRequest, tenant_slug: str, phone_number_id: str) -> HttpResponse:
    throttle, source = inbound_throttle(), source_address(request.META)
    wait = throttle.blocked_for(source)
    if wait is not None:
        return throttled_response(wait)
    tenant = active_tenants().filter(slug=tenant_slug).first()
    if tenant is None:
        throttle.charge(source)
        return _not_found("No flow endpoint here.")
    with schema_context(tenant.schema_name):
        phone_number = (
            PhoneNumber.objects.select_related("account").filter(phone_number_id=phone_number_id).first()
            if text_unstorable_reason(phone_number_id) is None  # no stored number holds a NUL, say
            else None
        )
        if phone_number is None:
            throttle.charge(source)
            return _not_found("No flow endpoint here.")
        reply = flow_endpoint_exchange(
            phone_number=phone_number,
            raw_body=request.body,
            signature_header=request.headers.get(meta.WEBHOOK_SIGNATURE_HEADER),
        )
    if reply.status == meta.FLOW_ENDPOINT_SIGNATURE_FAILED_STATUS:
        throttle.charge(source)
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
