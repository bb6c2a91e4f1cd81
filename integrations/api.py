"""Tenant API of the outbound webhooks: endpoints, their secrets, test events, deliveries and
replays. Each endpoint parses, calls one service, shapes."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from integrations import selectors, services
from integrations.models import Delivery
from integrations.schemas import (
    DeliveryDetailOut,
    DeliveryOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretRolledOut,
    EndpointWithSecretOut,
)
from platform_core.api import RowId, paginated

router = Router(tags=["webhook endpoints"])


@router.get("/webhook-endpoints", response=list[EndpointOut])
@paginated
def endpoint_list(request: HttpRequest):
    return selectors.endpoint_list()


@router.post("/webhook-endpoints", response={201: EndpointWithSecretOut})
def endpoint_create(request: HttpRequest, payload: EndpointIn):
    """Register an endpoint. The answer carries its signing secret, shown only this once."""
    endpoint, secret = services.endpoint_create(
        url=payload.url, event_types=payload.event_types, description=payload.description
    )
    return Status(201, {**EndpointOut.from_orm(endpoint).model_dump(), "secret": secret})


@router.get("/webhook-endpoints/{int:endpoint_id}", response=EndpointOut)
def endpoint_get(request: HttpRequest, endpoint_id: int):
    return selectors.endpoint_get(endpoint_id=endpoint_id)


@router.patch("/webhook-endpoints/{int:endpoint_id}", response=EndpointOut)
def endpoint_update(request: HttpRequest, endpoint_id: int, payload: EndpointPatch):
    endpoint = selectors.endpoint_get(endpoint_id=endpoint_id)
    return services.endpoint_update(endpoint=endpoint, **payload.model_dump(exclude_unset=True))


@router.delete("/webhook-endpoints/{int:endpoint_id}", response={204: None})
def endpoint_delete(request: HttpRequest, endpoint_id: int):
    services.endpoint_delete(endpoint=selectors.endpoint_get(endpoint_id=endpoint_id))
    return Status(204, None)


@router.post("/webhook-endpoints/{int:endpoint_id}/roll-secret", response=EndpointSecretRolledOut)
def endpoint_secret_roll(request: HttpRequest, endpoint_id: int):
    """A new secret, shown only now; the old one keeps signing too for 24 hours."""
    endpoint = selectors.endpoint_get(endpoint_id=endpoint_id)
    secret = services.endpoint_secret_roll(endpoint=endpoint)
    return {"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at}


@router.post("/webhook-endpoints/{int:endpoint_id}/test", response={202: DeliveryOut})
def endpoint_test_send(request: HttpRequest, endpoint_id: int):
    """Queue a `ping` event for this endpoint only."""
    delivery = services.endpoint_test_send(endpoint=selectors.endpoint_get(endpoint_id=endpoint_id))
    return Status(202, delivery)


@router.get("/webhook-deliveries", response=list[DeliveryOut])
@paginated
def delivery_list(
    request: HttpRequest,
    endpoint_id: RowId | None = None,
    state: Delivery.State | None = None,
    event_type: str | None = None,
):
    return selectors.delivery_list(endpoint_id=endpoint_id, state=state, event_type=event_type)


@router.get("/webhook-deliveries/{int:delivery_id}", response=DeliveryDetailOut)
def delivery_get(request: HttpRequest, delivery_id: int):
    return selectors.delivery_get(delivery_id=delivery_id)


@router.post("/webhook-deliveries/{int:delivery_id}/replay", response={202: DeliveryOut})
def delivery_replay(request: HttpRequest, delivery_id: int):
    """Send the same event (same `webhook-id`) to the same endpoint again, as a new delivery."""
    replay = services.delivery_replay(delivery=selectors.delivery_get(delivery_id=delivery_id))
    return Status(202, selectors.delivery_get(delivery_id=replay.pk))
