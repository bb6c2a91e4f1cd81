"""Reads of the flows app. Everything runs in the current tenant schema."""

from __future__ import annotations

from django.db.models import QuerySet

from flows_builder.errors import FlowNotFound, FlowResponseNotFound, ServiceRequestNotFound
from flows_builder.models import CleaningRequest, FlowResponse, InstallationRequest, TourInquiry, WhatsAppFlow


def flow_list(
    *,
    is_active: bool | None = None,
    sync_status: str | None = None,
    account_id: int | None = None,
    name_prefix: str | None = None,
) -> QuerySet[WhatsAppFlow]:
    flows = WhatsAppFlow.objects.select_related("account", "endpoint_phone_number")
    if is_active is not None:
        flows = flows.filter(is_active=is_active)
    if sync_status:
        flows = flows.filter(sync_status=sync_status)
    if account_id is not None:
        flows = flows.filter(account_id=account_id)
    if name_prefix:
        flows = flows.filter(name__istartswith=name_prefix)
    return flows


def flow_get(*, flow_id: int) -> WhatsAppFlow:
    flow = WhatsAppFlow.objects.select_related("account").filter(pk=flow_id).first()
    if flow is None:
        raise FlowNotFound(f"No flow with id {flow_id}.")
    return flow


def flow_linked_to(*, conversational_flow_name: str, account_id: int | None = None) -> WhatsAppFlow | None:
    """The active, published WhatsApp Flow that replaces a conversational flow, if there is one.

    The automation engine calls this when a contact triggers a conversational flow: a Flow found
    here is sent instead; None means the conversational flow runs as usual.
    """
    candidates = WhatsAppFlow.objects.filter(flow_definition_name=conversational_flow_name, is_active=True)
    if account_id is not None:
        candidates = candidates.filter(account_id=account_id)
    candidates = candidates.order_by("-version", "id")
    return next((flow for flow in candidates if flow.can_send_published), None)


def flow_response_list(
    *, flow_id: int | None = None, processed: bool | None = None
) -> QuerySet[FlowResponse]:
    responses = FlowResponse.objects.all()
    if flow_id is not None:
        responses = responses.filter(flow_id=flow_id)
    if processed is not None:
        responses = responses.filter(processed=processed)
    return responses


def flow_response_get(*, response_id: int) -> FlowResponse:
    response = FlowResponse.objects.select_related("flow", "contact").filter(pk=response_id).first()
    if response is None:
        raise FlowResponseNotFound(f"No flow response with id {response_id}.")
    return response


def installation_request_list(
    *, kind: str | None = None, status: str | None = None
) -> QuerySet[InstallationRequest]:
    requests = InstallationRequest.objects.all()
    if kind:
        requests = requests.filter(kind=kind)
    if status:
        requests = requests.filter(status=status)
    return requests


def installation_request_get(*, request_id: int) -> InstallationRequest:
    found = InstallationRequest.objects.filter(pk=request_id).first()
    if found is None:
        raise ServiceRequestNotFound(f"No installation request with id {request_id}.")
    return found


def cleaning_request_list(*, status: str | None = None) -> QuerySet[CleaningRequest]:
    requests = CleaningRequest.objects.all()
    if status:
        requests = requests.filter(status=status)
    return requests


def cleaning_request_get(*, request_id: int) -> CleaningRequest:
    found = CleaningRequest.objects.filter(pk=request_id).first()
    if found is None:
        raise ServiceRequestNotFound(f"No cleaning request with id {request_id}.")
    return found


def tour_inquiry_list(*, status: str | None = None, tour: str | None = None) -> QuerySet[TourInquiry]:
    """This workspace's tour inquiries, newest first."""
    inquiries = TourInquiry.objects.order_by("-created_at", "-id")
    if status:
        inquiries = inquiries.filter(status=status)
    if tour:
        inquiries = inquiries.filter(tour=tour)
    return inquiries


def tour_inquiry_get(*, inquiry_id: int) -> TourInquiry:
    found = TourInquiry.objects.filter(pk=inquiry_id).first()
    if found is None:
        raise ServiceRequestNotFound(f"No tour inquiry with id {inquiry_id}.")
    return found
