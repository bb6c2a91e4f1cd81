"""Tenant API of WhatsApp Flows: `/api/v1/flows...`. Each endpoint parses, calls one service, shapes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from flows_builder import exchange_config, selectors, services, sync
from flows_builder.endpoint import endpoint_uri_for, flow_endpoint_key_ensure
from flows_builder.errors import (
    AccountNotFound,
    ContactNotFound,
    FlowInvalid,
    PhoneNumberNotFound,
    validation_error_dicts,
)
from flows_builder.models import FlowEndpointKey, RequestStatus, TourInquiry
from flows_builder.responses import flow_response_reprocess, flow_response_unprocess
from flows_builder.schemas import (
    CleaningRequestOut,
    EndpointKeyIn,
    EndpointKeyOut,
    FlowDetailOut,
    FlowExchangeIn,
    FlowExchangeOut,
    FlowExchangeSavedOut,
    FlowExchangeSecretRolledOut,
    FlowIn,
    FlowOut,
    FlowPatch,
    FlowResponseOut,
    FlowSendIn,
    FlowSyncIn,
    FlowSyncOut,
    FlowValidateIn,
    FlowValidateOut,
    InstallationRequestOut,
    InstallBuiltinsIn,
    TourInquiryOut,
)
from flows_builder.sending import flow_send
from flows_builder.sync import FlowSyncOutcome
from flows_builder.validation import FlowValidationError, validate_flow_json
from messaging.models import Contact
from messaging.selectors import wa_id_from_phone
from platform_core.api import RowId, paginated
from waba.models import PhoneNumber, WhatsAppAccount

router = Router(tags=["WhatsApp Flows"])

# PATCH fields that may be set to null (to unlink); every other field is left out to keep it.
NULLABLE_FIELDS = frozenset({"flow_definition_name", "endpoint_phone_number_id"})


def _account(account_id: int) -> WhatsAppAccount:
    account = WhatsAppAccount.objects.filter(pk=account_id).first()
    if account is None:
        raise AccountNotFound(f"No WhatsApp account with id {account_id}.")
    return account


def _phone_number(phone_number_id: str) -> PhoneNumber:
    number = PhoneNumber.objects.select_related("account").filter(phone_number_id=phone_number_id).first()
    if number is None:
        raise PhoneNumberNotFound(f"No phone number {phone_number_id} in this workspace.")
    return number


def _validation_out(errors: list[FlowValidationError]) -> dict[str, Any]:
    return {"valid": not errors, "errors": validation_error_dicts(errors)}


def _sync_out(outcome: FlowSyncOutcome) -> dict[str, Any]:
    return {
        "result": outcome.describe(),
        "created": outcome.created,
        "new_version": outcome.new_version,
        "uploaded": outcome.uploaded,
        "published": outcome.published,
        "flow": outcome.flow,
    }


# --- flows -------------------------------------------------------------------------------------


@router.get("/flows", response=list[FlowOut])
@paginated
def flow_list(
    request: HttpRequest,
    is_active: bool | None = None,
    sync_status: str | None = None,
    account_id: RowId | None = None,
):
    return selectors.flow_list(is_active=is_active, sync_status=sync_status, account_id=account_id)


@router.post("/flows", response={201: FlowDetailOut})
def flow_create(request: HttpRequest, payload: FlowIn):
    account = _account(payload.account_id)
    number = _phone_number(payload.endpoint_phone_number_id) if payload.endpoint_phone_number_id else None
    flow = services.flow_create(
        account=account,
        name=payload.name,
        friendly_name=payload.friendly_name,
        description=payload.description,
        categories=payload.categories,
        flow_json=payload.flow_json,
        flow_definition_name=payload.flow_definition_name,
        trigger_keywords=payload.trigger_keywords,
        is_active=payload.is_active,
        endpoint_enabled=payload.endpoint_enabled,
        endpoint_phone_number=number,
    )
    return Status(201, flow)


@router.post("/flows/validate", response=FlowValidateOut)
def flow_json_validate(request: HttpRequest, payload: FlowValidateIn):
    """Check a Flow JSON without saving it: every problem with its JSON pointer."""
    return _validation_out(validate_flow_json(payload.flow_json, has_endpoint=payload.endpoint_enabled))


@router.post("/flows/install-builtins", response={201: list[FlowDetailOut]})
def flow_install_builtins(request: HttpRequest, payload: InstallBuiltinsIn):
    return Status(201, services.install_builtin_flows(_account(payload.account_id)))


@router.get("/flows/{int:flow_id}", response=FlowDetailOut)
def flow_get(request: HttpRequest, flow_id: int):
    return selectors.flow_get(flow_id=flow_id)


@router.patch("/flows/{int:flow_id}", response=FlowDetailOut)
def flow_update(request: HttpRequest, flow_id: int, payload: FlowPatch):
    flow = selectors.flow_get(flow_id=flow_id)
    changes = payload.model_dump(exclude_unset=True)
    nulls = sorted(name for name, value in changes.items() if value is None and name not in NULLABLE_FIELDS)
    if nulls:
        raise FlowInvalid(
            f"{', '.join(nulls)} cannot be null; leave a field out to keep it.",
            details=[{"field": name, "message": "must not be null"} for name in nulls],
        )
    number_id = changes.pop("endpoint_phone_number_id", ...)
    if number_id is not ...:
        changes["endpoint_phone_number"] = _phone_number(number_id) if number_id else None
    return services.flow_update(flow=flow, **changes)


@router.delete("/flows/{int:flow_id}", response={204: None})
def flow_delete(request: HttpRequest, flow_id: int):
    services.flow_delete(flow=selectors.flow_get(flow_id=flow_id))
    return Status(204, None)


@router.post("/flows/{int:flow_id}/validate", response=FlowValidateOut)
def flow_validate(request: HttpRequest, flow_id: int):
    flow = selectors.flow_get(flow_id=flow_id)
    return _validation_out(validate_flow_json(flow.flow_json, has_endpoint=flow.endpoint_enabled))


@router.post("/flows/{int:flow_id}/sync", response=FlowSyncOut)
def flow_sync(request: HttpRequest, flow_id: int, payload: FlowSyncIn | None = None):
    options = payload or FlowSyncIn()
    flow = selectors.flow_get(flow_id=flow_id)
    return _sync_out(sync.flow_sync(flow=flow, publish=options.publish, force=options.force))


@router.post("/flows/{int:flow_id}/publish", response=FlowSyncOut)
def flow_publish(request: HttpRequest, flow_id: int):
    return _sync_out(sync.flow_publish(flow=selectors.flow_get(flow_id=flow_id)))


@router.post("/flows/{int:flow_id}/deprecate", response=FlowDetailOut)
def flow_deprecate(request: HttpRequest, flow_id: int):
    return sync.flow_deprecate(flow=selectors.flow_get(flow_id=flow_id))


@router.post("/flows/{int:flow_id}/refresh-status", response=FlowDetailOut)
def flow_refresh_status(request: HttpRequest, flow_id: int):
    return sync.flow_status_refresh(flow=selectors.flow_get(flow_id=flow_id))


@router.post("/flows/{int:flow_id}/activate", response=FlowDetailOut)
def flow_activate(request: HttpRequest, flow_id: int):
    return services.flow_set_active(flow=selectors.flow_get(flow_id=flow_id), is_active=True)


@router.post("/flows/{int:flow_id}/deactivate", response=FlowDetailOut)
def flow_deactivate(request: HttpRequest, flow_id: int):
    return services.flow_set_active(flow=selectors.flow_get(flow_id=flow_id), is_active=False)


@router.post("/flows/{int:flow_id}/send", response={202: dict[str, Any]})
def flow_message_send(request: HttpRequest, flow_id: int, payload: FlowSendIn):
    """Send the flow to a contact through the send pipeline (503 until that pipeline is installed)."""
    flow = selectors.flow_get(flow_id=flow_id)
    number = _phone_number(payload.phone_number_id)
    contact = Contact.objects.filter(wa_id=wa_id_from_phone(payload.to)).first()
    if contact is None:
        raise ContactNotFound(
            f"No contact with WhatsApp id {payload.to}: flows go to existing conversations."
        )
    queued = flow_send(
        flow=flow,
        contact=contact,
        phone_number=number,
        body=payload.body,
        cta=payload.cta,
        header=payload.header,
        footer=payload.footer,
        mode=payload.mode,
        screen=payload.screen,
        data=payload.data,
        action=payload.action,
    )
    return Status(202, {"message_id": queued.message.pk, "status": queued.message.status})


# --- data exchange served by the tenant: forwarded to its URL, or static answers ----------------


@router.get("/flows/{int:flow_id}/data-exchange", response=FlowExchangeOut)
def flow_exchange_get(request: HttpRequest, flow_id: int):
    """How the platform answers this flow's data-exchange requests (the secret is never shown here)."""
    flow = selectors.flow_get(flow_id=flow_id)
    return exchange_config.flow_exchange_config_get(flow=flow)


@router.put("/flows/{int:flow_id}/data-exchange", response=FlowExchangeSavedOut)
def flow_exchange_put(request: HttpRequest, flow_id: int, payload: FlowExchangeIn):
    """Create or replace the configuration; the signing secret is in the answer only when it is new."""
    flow = selectors.flow_get(flow_id=flow_id)
    config, secret = exchange_config.flow_exchange_config_set(
        flow=flow, mode=payload.mode, url=payload.url, static_screens=payload.static_screens
    )
    return {**FlowExchangeOut.from_orm(config).model_dump(), "secret": secret}


@router.delete("/flows/{int:flow_id}/data-exchange", response={204: None})
def flow_exchange_delete(request: HttpRequest, flow_id: int):
    exchange_config.flow_exchange_config_delete(flow=selectors.flow_get(flow_id=flow_id))
    return Status(204, None)


@router.post("/flows/{int:flow_id}/data-exchange/roll-secret", response=FlowExchangeSecretRolledOut)
def flow_exchange_secret_roll(request: HttpRequest, flow_id: int):
    """A new secret, shown only now; the old one keeps signing too for 24 hours."""
    config = exchange_config.flow_exchange_config_get(flow=selectors.flow_get(flow_id=flow_id))
    secret = exchange_config.flow_exchange_secret_roll(config=config)
    return {"secret": secret, "previous_secret_expires_at": config.previous_secret_expires_at}


# --- data-exchange endpoint keys ---------------------------------------------------------------


def _key_out(key: FlowEndpointKey) -> dict[str, Any]:
    return {
        "phone_number_id": key.phone_number.phone_number_id,
        "key_version": key.key_version,
        "public_key_pem": key.public_key_pem,
        "uploaded_at": key.uploaded_at,
        "endpoint_uri": endpoint_uri_for(phone_number=key.phone_number),
    }


@router.post("/flows/endpoint-keys", response=EndpointKeyOut)
def flow_endpoint_key_create(request: HttpRequest, payload: EndpointKeyIn):
    """Generate (or rotate) the number's business key pair and upload its public key to Meta."""
    key = flow_endpoint_key_ensure(phone_number=_phone_number(payload.phone_number_id), rotate=payload.rotate)
    return _key_out(key)


@router.get("/flows/endpoint-keys", response=list[EndpointKeyOut])
def flow_endpoint_key_list(request: HttpRequest):
    keys = FlowEndpointKey.objects.select_related("phone_number").defer("private_key_pem")
    return [_key_out(key) for key in keys]


# --- responses and the records they created ----------------------------------------------------


@router.get("/flows/responses", response=list[FlowResponseOut])
@paginated
def flow_response_list(request: HttpRequest, flow_id: RowId | None = None, processed: bool | None = None):
    return selectors.flow_response_list(flow_id=flow_id, processed=processed)


@router.get("/flows/responses/{int:response_id}", response=FlowResponseOut)
def flow_response_get(request: HttpRequest, response_id: int):
    return selectors.flow_response_get(response_id=response_id)


@router.post("/flows/responses/{int:response_id}/reprocess", response=FlowResponseOut)
def flow_response_reprocess_endpoint(request: HttpRequest, response_id: int):
    return flow_response_reprocess(response=selectors.flow_response_get(response_id=response_id))


@router.post("/flows/responses/{int:response_id}/unprocess", response=FlowResponseOut)
def flow_response_unprocess_endpoint(request: HttpRequest, response_id: int):
    """Mark a processed response unprocessed again (409 `flow_response_not_processed` if it is not)."""
    return flow_response_unprocess(response=selectors.flow_response_get(response_id=response_id))


@router.get("/flows/installation-requests", response=list[InstallationRequestOut])
@paginated
def installation_request_list(request: HttpRequest, kind: str | None = None, status: str | None = None):
    return selectors.installation_request_list(kind=kind, status=status)


@router.get("/flows/installation-requests/{int:request_id}", response=InstallationRequestOut)
def installation_request_get(request: HttpRequest, request_id: int):
    return selectors.installation_request_get(request_id=request_id)


@router.get("/flows/cleaning-requests", response=list[CleaningRequestOut])
@paginated
def cleaning_request_list(request: HttpRequest, status: str | None = None):
    return selectors.cleaning_request_list(status=status)


@router.get("/flows/cleaning-requests/{int:request_id}", response=CleaningRequestOut)
def cleaning_request_get(request: HttpRequest, request_id: int):
    return selectors.cleaning_request_get(request_id=request_id)


@router.get("/flows/tour-inquiries", response=list[TourInquiryOut])
@paginated
def tour_inquiry_list(
    request: HttpRequest, status: RequestStatus | None = None, tour: TourInquiry.Tour | None = None
):
    """Tour inquiries left through the tour-inquiry Flow or its conversational flow, newest first."""
    return selectors.tour_inquiry_list(status=status, tour=tour)


@router.get("/flows/tour-inquiries/{int:inquiry_id}", response=TourInquiryOut)
def tour_inquiry_get(request: HttpRequest, inquiry_id: int):
    return selectors.tour_inquiry_get(inquiry_id=inquiry_id)
