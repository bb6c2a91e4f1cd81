"""Tenant API of broadcasts: create (bulk template send), list, progress, cancel."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import Header, Router

from broadcasts.models import Broadcast
from broadcasts.schemas import (
    BroadcastCancelIn,
    BroadcastIn,
    BroadcastOut,
    BroadcastProgressOut,
    BroadcastTemplateIn,
)
from broadcasts.selectors import broadcast_get, broadcast_progress, broadcast_state, broadcasts_list
from broadcasts.services import broadcast_cancel, broadcast_create
from platform_core.api import HEADER_TOKEN_PATTERN, ShapedRows, paginated

router = Router(tags=["broadcasts"])


def broadcast_out(broadcast: Broadcast) -> dict:
    progress = broadcast_progress(broadcast=broadcast)
    return BroadcastOut(
        id=broadcast.pk,
        name=broadcast.name,
        status=broadcast_state(broadcast=broadcast, progress=progress),
        phone_number_id=broadcast.phone_number.phone_number_id,
        template=BroadcastTemplateIn(name=broadcast.template_name, language=broadcast.template_language),
        created_at=broadcast.created_at,
        cancelled_at=broadcast.cancelled_at,
        cancel_reason=broadcast.cancel_reason,
        progress=BroadcastProgressOut(**progress.__dict__),
    ).model_dump(mode="json")


def _get(broadcast_id: int) -> Broadcast:
    try:
        return broadcast_get(broadcast_id=broadcast_id)
    except Broadcast.DoesNotExist:
        raise Http404(f"No broadcast {broadcast_id} in this workspace.") from None


@router.post(
    "/broadcasts",
    response={202: BroadcastOut},
    summary="Send a template to many recipients",
    description=(
        "Up to 10,000 recipients, each with the template's parameters. Every recipient is checked "
        "first: one bad number or parameter count refuses the request with every problem listed. "
        "Messages are then queued and sent at the number's throughput. Idempotency-Key supported."
    ),
)
def broadcast_create_endpoint(
    request: HttpRequest,
    payload: BroadcastIn,
    idempotency_key: str | None = Header(
        default=None, alias="Idempotency-Key", max_length=128, pattern=HEADER_TOKEN_PATTERN
    ),
) -> HttpResponse:
    broadcast, replayed = broadcast_create(request=payload, idempotency_key=idempotency_key)
    response = JsonResponse(broadcast_out(broadcast), status=202)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@router.get("/broadcasts", response=list[BroadcastOut], summary="Broadcasts with their progress, newest first")
@paginated
def broadcast_list_endpoint(request: HttpRequest) -> ShapedRows:
    return ShapedRows(broadcasts_list(), broadcast_out)


@router.get("/broadcasts/{broadcast_id}", response=BroadcastOut, summary="A broadcast and its progress")
def broadcast_get_endpoint(request: HttpRequest, broadcast_id: int) -> dict:
    return broadcast_out(_get(broadcast_id))


@router.post(
    "/broadcasts/{broadcast_id}/cancel",
    response=BroadcastOut,
    summary="Cancel a broadcast",
    description="Messages still queued fail with the reason and are never sent. `In-Flight` tells how many "
    "were already being sent.",
)
def broadcast_cancel_endpoint(request: HttpRequest, broadcast_id: int, payload: BroadcastCancelIn | None = None) -> HttpResponse:
    broadcast, in_flight = broadcast_cancel(broadcast=_get(broadcast_id), reason=payload.reason if payload else "")
    response = JsonResponse(broadcast_out(broadcast))
    response["In-Flight"] = str(in_flight)
    return response
