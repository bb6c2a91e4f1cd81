"""The send endpoint, `POST /messages`, and the quota read-outs.

`POST /messages` is served by the messaging router, next to `GET /messages` (django-ninja serves
one path from one router): the tenant urlconf adds it there with `message_send_operations_add`.
The quota endpoints are this app's own `router`.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Header, Router

from messaging.models import Message
from platform_core.api import HEADER_TOKEN_PATTERN
from sending.quotas import quota_usage
from sending.schemas import MessageIn, MessageQueuedOut, QuotaUsageOut
from sending.services import message_send
from waba.selectors import account_get

router = Router(tags=["quotas"])

IDEMPOTENCY_KEY_MAX_CHARS = Message._meta.get_field("idempotency_key").max_length


def message_queued_out(message: Message) -> dict:
    return MessageQueuedOut(
        id=message.pk,
        status=message.status,
        type=message.type,
        to="+" + message.contact.wa_id,
        phone_number_id=message.phone_number.phone_number_id,
        created_at=message.created_at,
    ).model_dump(mode="json")


def message_create(
    request: HttpRequest,
    payload: MessageIn,
    idempotency_key: str | None = Header(
        default=None, alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX_CHARS, pattern=HEADER_TOKEN_PATTERN
    ),
) -> HttpResponse:
    queued = message_send(
        phone_number_id=payload.phone_number_id, to=payload.to, content=payload, idempotency_key=idempotency_key
    )
    response = JsonResponse(message_queued_out(queued.message), status=202)
    if queued.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def message_send_operations_add(router: Router) -> None:
    """Add `POST /messages` to `router` (the one serving `GET /messages`)."""
    router.post(
        "/messages",
        response={202: MessageQueuedOut},
        summary="Send a message",
        description=(
            "Validates the message against Meta's rules and queues it; a worker sends it through the "
            "number's rate limits. Outside the recipient's 24-hour window only approved templates are "
            "accepted. Send an `Idempotency-Key` header to make retries of this request safe: the same "
            "key returns the message it first created. Follow its progress at GET /messages/{id}."
        ),
    )(message_create)


@router.get("/quota", response=QuotaUsageOut)
def workspace_quota(request: HttpRequest):
    """The workspace's send quotas (per minute, UTC day, UTC month): limit, used and remaining now."""
    return {"account_id": None, "quotas": quota_usage()}


@router.get("/accounts/{int:account_id}/quota", response=QuotaUsageOut)
def account_quota(request: HttpRequest, account_id: int):
    """The quotas a message from this account counts against: the workspace's and the account's own."""
    account = account_get(account_id=account_id)
    return {"account_id": account.pk, "quotas": quota_usage(account=account)}
